;; TIFF LZW (see ../lzw.ts for the JavaScript side and the format).
;;
;; Why WebAssembly: both loops do a few table loads and stores per code, and in V8 every
;; typed-array access is bounds-checked; here guard pages do that. On the bench strips (CPU
;; time, 2-core VM, 2026-12-01) encoding with the predictor took 0.34-0.39 times and decoding
;; with it 0.36-0.71 times the CPU of the JavaScript loops they replaced.
;;
;; The JavaScript side runs the encoder and the decoder in two instances of this module, so
;; each has its own memory and an encoded chunk stays intact while another chunk is decoded.
;; The caller grows the memory to fit its chunk and copies bytes in and out.
;;
;; Memory layout (byte offsets):
;;   encoder: 0x00000 32768 × u32 the string table, open addressing: the top 15 bits of
;;                                (byte << 12 | prefix) × 0x9e3779b1, probed linearly, each
;;                                entry byte << 24 | prefix << 12 | code (0 is an empty slot:
;;                                codes start at 258). At most 3836 slots are in use; with 8192
;;                                slots the probes made encoding 16-bit strips 1.6 times slower,
;;                                with 16384 1.1 times (2-core VM, 2026-12-01), and clearing
;;                                128 KiB per 3836 codes costs less than that.
;;   decoder: 0x00000 4096 × u32  where each code's bytes start in the output
;;            0x04000 4096 × u32  how many bytes each code stands for
;;   both:    0x20000 the input, then the output (addresses passed in)
(module
  (memory (export "memory") 1)

  ;; Stores the whole bytes of the top $bits bits of $acc at $op; returns the new $op.
  (func $flush (param $acc i32) (param $bits i32) (param $op i32) (result i32)
    (block $done
      (loop $more
        (br_if $done (i32.lt_u (local.get $bits) (i32.const 8)))
        (local.set $bits (i32.sub (local.get $bits) (i32.const 8)))
        (i32.store8 (local.get $op) (i32.shr_u (local.get $acc) (local.get $bits)))
        (local.set $op (i32.add (local.get $op) (i32.const 1)))
        (br $more)))
    (local.get $op))

  ;; Encodes the $n bytes at $src to $dst as libtiff does (Clear first, Clear when the table
  ;; reaches 4094 codes, EOI last, codes widened one code early); returns the bytes written.
  ;; $dst needs room for 1.5 × $n + 64 bytes. The bit accumulator keeps only its low 32 bits:
  ;; bits already stored may be shifted out.
  (func (export "encode") (param $src i32) (param $n i32) (param $dst i32) (result i32)
    (local $p i32) (local $end i32) (local $op i32) (local $acc i32) (local $bits i32)
    (local $width i32) (local $limit i32) (local $next i32) (local $w i32) (local $k i32)
    (local $key i32) (local $h i32) (local $e i32)
    (local.set $op (local.get $dst))
    (local.set $width (i32.const 9))
    (local.set $limit (i32.const 511))
    (local.set $next (i32.const 258))
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 0x20000))
    ;; Clear (256) first.
    (local.set $acc (i32.const 256))
    (local.set $bits (i32.const 9))
    (if (local.get $n)
      (then
        (local.set $p (local.get $src))
        (local.set $end (i32.add (local.get $src) (local.get $n)))
        (local.set $w (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (block $input_done
          (loop $next_byte
            (br_if $input_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $k (i32.load8_u (local.get $p)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $key (i32.or (i32.shl (local.get $k) (i32.const 12)) (local.get $w)))
            (local.set $h (i32.shr_u (i32.mul (local.get $key) (i32.const 0x9e3779b1)) (i32.const 17)))
            ;; Look up prefix w + byte k: on a hit it becomes the prefix.
            (block $miss
              (loop $probe
                (local.set $e (i32.load (i32.shl (local.get $h) (i32.const 2))))
                (br_if $miss (i32.eqz (local.get $e)))
                (if (i32.eq (i32.shr_u (local.get $e) (i32.const 12)) (local.get $key))
                  (then
                    (local.set $w (i32.and (local.get $e) (i32.const 0xfff)))
                    (br $next_byte)))
                (local.set $h (i32.and (i32.add (local.get $h) (i32.const 1)) (i32.const 0x7fff)))
                (br $probe)))
            ;; A miss: emit w (9 to 12 bits on top of fewer than 8 held: one or two bytes out).
            (local.set $acc (i32.or (i32.shl (local.get $acc) (local.get $width)) (local.get $w)))
            (local.set $bits (i32.sub (i32.add (local.get $bits) (local.get $width)) (i32.const 8)))
            (i32.store8 (local.get $op) (i32.shr_u (local.get $acc) (local.get $bits)))
            (local.set $op (i32.add (local.get $op) (i32.const 1)))
            (if (i32.ge_u (local.get $bits) (i32.const 8))
              (then
                (local.set $bits (i32.sub (local.get $bits) (i32.const 8)))
                (i32.store8 (local.get $op) (i32.shr_u (local.get $acc) (local.get $bits)))
                (local.set $op (i32.add (local.get $op) (i32.const 1)))))
            ;; ... and define w + k in the free slot the probe ended on.
            (i32.store (i32.shl (local.get $h) (i32.const 2))
              (i32.or (i32.shl (local.get $key) (i32.const 12)) (local.get $next)))
            (local.set $next (i32.add (local.get $next) (i32.const 1)))
            (if (i32.eq (local.get $next) (i32.const 4094))
              (then
                ;; The table is full: Clear at the current width, start over at 9 bits.
                (local.set $acc (i32.or (i32.shl (local.get $acc) (local.get $width)) (i32.const 256)))
                (local.set $bits (i32.add (local.get $bits) (local.get $width)))
                (local.set $op (call $flush (local.get $acc) (local.get $bits) (local.get $op)))
                (local.set $bits (i32.and (local.get $bits) (i32.const 7)))
                (local.set $width (i32.const 9))
                (local.set $limit (i32.const 511))
                (local.set $next (i32.const 258))
                (memory.fill (i32.const 0) (i32.const 0) (i32.const 0x20000)))
              (else
                (if (i32.gt_u (local.get $next) (local.get $limit))
                  (then
                    (local.set $width (i32.add (local.get $width) (i32.const 1)))
                    (local.set $limit
                      (i32.sub (i32.shl (i32.const 1) (local.get $width)) (i32.const 1)))))))
            (local.set $w (local.get $k))
            (br $next_byte)))
        ;; The last prefix; libtiff counts it as a code defined, so the width may change again.
        (local.set $acc (i32.or (i32.shl (local.get $acc) (local.get $width)) (local.get $w)))
        (local.set $bits (i32.add (local.get $bits) (local.get $width)))
        (local.set $op (call $flush (local.get $acc) (local.get $bits) (local.get $op)))
        (local.set $bits (i32.and (local.get $bits) (i32.const 7)))
        (local.set $next (i32.add (local.get $next) (i32.const 1)))
        (if (i32.eq (local.get $next) (i32.const 4094))
          (then
            (local.set $acc (i32.or (i32.shl (local.get $acc) (local.get $width)) (i32.const 256)))
            (local.set $bits (i32.add (local.get $bits) (local.get $width)))
            (local.set $op (call $flush (local.get $acc) (local.get $bits) (local.get $op)))
            (local.set $bits (i32.and (local.get $bits) (i32.const 7)))
            (local.set $width (i32.const 9)))
          (else
            (if (i32.gt_u (local.get $next) (local.get $limit))
              (then (local.set $width (i32.add (local.get $width) (i32.const 1)))))))))
    ;; EOI (257), then the last bits padded with zeros to a byte.
    (local.set $acc (i32.or (i32.shl (local.get $acc) (local.get $width)) (i32.const 257)))
    (local.set $bits (i32.add (local.get $bits) (local.get $width)))
    (local.set $op (call $flush (local.get $acc) (local.get $bits) (local.get $op)))
    (local.set $bits (i32.and (local.get $bits) (i32.const 7)))
    (if (local.get $bits)
      (then
        (i32.store8 (local.get $op)
          (i32.shl (local.get $acc) (i32.sub (i32.const 8) (local.get $bits))))
        (local.set $op (i32.add (local.get $op) (i32.const 1)))))
    (i32.sub (local.get $op) (local.get $dst)))

  ;; Copies $len (≥ 1) bytes from $from to $to, where $from + $len ≤ $to. Short strings go
  ;; 8 bytes at a time and may write up to 7 bytes past the end (the caller leaves room): the
  ;; bytes read are all before $to, or past the end of the string.
  (func $copy (param $from i32) (param $to i32) (param $len i32)
    (if (i32.gt_u (local.get $len) (i32.const 64))
      (then
        (memory.copy (local.get $to) (local.get $from) (local.get $len))
        (return)))
    (loop $more
      (i64.store (local.get $to) (i64.load (local.get $from)))
      (local.set $from (i32.add (local.get $from) (i32.const 8)))
      (local.set $to (i32.add (local.get $to) (i32.const 8)))
      (local.set $len (i32.sub (local.get $len) (i32.const 8)))
      (br_if $more (i32.gt_s (local.get $len) (i32.const 0)))))

  ;; Decodes the $n bytes at $src (followed by 2 zero bytes) to $dst, until EOI, the end of the
  ;; input, or $limit bytes out. $dst needs room for $limit + 4104 bytes: the last string may
  ;; run past $limit (at most 3838 bytes) plus the copy's 7. Returns the bytes written (at most
  ;; $limit), or -1 - code for a code that cannot occur where it stands.
  (func (export "decode") (param $src i32) (param $n i32) (param $dst i32) (param $limit i32)
    (result i32)
    (local $bitPos i32) (local $bitEnd i32) (local $width i32) (local $next i32)
    (local $out i32) (local $end i32) (local $prevStart i32) (local $prevLength i32)
    (local $byte i32) (local $code i32) (local $length i32) (local $slot i32)
    (local.set $bitEnd (i32.shl (local.get $n) (i32.const 3)))
    (local.set $width (i32.const 9))
    (local.set $next (i32.const 258))
    (local.set $out (local.get $dst))
    (local.set $end (i32.add (local.get $dst) (local.get $limit)))
    (local.set $prevStart (i32.const -1))
    (block $done
      (loop $next_code
        (br_if $done
          (i32.gt_u (i32.add (local.get $bitPos) (local.get $width)) (local.get $bitEnd)))
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        ;; The code lies in the 24 bits from its first byte on.
        (local.set $byte (i32.add (local.get $src) (i32.shr_u (local.get $bitPos) (i32.const 3))))
        (local.set $code
          (i32.and
            (i32.shr_u
              (i32.or
                (i32.or
                  (i32.shl (i32.load8_u (local.get $byte)) (i32.const 16))
                  (i32.shl (i32.load8_u offset=1 (local.get $byte)) (i32.const 8)))
                (i32.load8_u offset=2 (local.get $byte)))
              (i32.sub
                (i32.sub (i32.const 24) (i32.and (local.get $bitPos) (i32.const 7)))
                (local.get $width)))
            (i32.sub (i32.shl (i32.const 1) (local.get $width)) (i32.const 1))))
        (local.set $bitPos (i32.add (local.get $bitPos) (local.get $width)))
        (br_if $done (i32.eq (local.get $code) (i32.const 257)))
        (if (i32.eq (local.get $code) (i32.const 256))
          (then
            (local.set $width (i32.const 9))
            (local.set $next (i32.const 258))
            (local.set $prevStart (i32.const -1))
            (br $next_code)))
        (if (i32.lt_u (local.get $code) (i32.const 256))
          (then
            (i32.store8 (local.get $out) (local.get $code))
            (local.set $length (i32.const 1)))
          (else
            (if (i32.lt_s (local.get $prevStart) (i32.const 0))
              (then (return (i32.sub (i32.const -1) (local.get $code)))))
            (if (i32.lt_u (local.get $code) (local.get $next))
              (then
                (local.set $slot (i32.shl (local.get $code) (i32.const 2)))
                (local.set $length (i32.load offset=0x4000 (local.get $slot)))
                ;; Most strings are short: one 8-byte move, no call.
                (if (i32.le_u (local.get $length) (i32.const 8))
                  (then (i64.store (local.get $out) (i64.load (i32.load (local.get $slot)))))
                  (else
                    (call $copy (i32.load (local.get $slot)) (local.get $out) (local.get $length)))))
              (else
                (if (i32.ne (local.get $code) (local.get $next))
                  (then (return (i32.sub (i32.const -1) (local.get $code)))))
                ;; The code being defined: the previous string plus its own first byte.
                (local.set $length (i32.add (local.get $prevLength) (i32.const 1)))
                (if (i32.le_u (local.get $prevLength) (i32.const 8))
                  (then (i64.store (local.get $out) (i64.load (local.get $prevStart))))
                  (else (call $copy (local.get $prevStart) (local.get $out) (local.get $prevLength))))
                (i32.store8 (i32.add (local.get $out) (local.get $prevLength))
                  (i32.load8_u (local.get $prevStart)))))))
        (if (i32.and
              (i32.ge_s (local.get $prevStart) (i32.const 0))
              (i32.lt_u (local.get $next) (i32.const 4096)))
          (then
            ;; The previous string plus this one's first byte lies where the previous began.
            (local.set $slot (i32.shl (local.get $next) (i32.const 2)))
            (i32.store (local.get $slot) (local.get $prevStart))
            (i32.store offset=0x4000 (local.get $slot)
              (i32.add (local.get $prevLength) (i32.const 1)))
            (local.set $next (i32.add (local.get $next) (i32.const 1)))
            (if (i32.and
                  (i32.ge_u (i32.add (local.get $next) (i32.const 1))
                    (i32.shl (i32.const 1) (local.get $width)))
                  (i32.lt_u (local.get $width) (i32.const 12)))
              (then (local.set $width (i32.add (local.get $width) (i32.const 1)))))))
        (local.set $prevStart (local.get $out))
        (local.set $prevLength (local.get $length))
        (local.set $out (i32.add (local.get $out) (local.get $length)))
        (br $next_code)))
    (if (i32.gt_u (local.get $out) (local.get $end)) (then (local.set $out (local.get $end))))
    (i32.sub (local.get $out) (local.get $dst)))
  ;; The horizontal predictor (predictor 2) on the $n bytes at $p, rows of $row bytes, $ch
  ;; samples per pixel: only whole rows, like ../predictor.ts. Undoing keeps each channel's
  ;; running sum in a local (each sample waits on an add, not on the store before it); applying
  ;; goes backwards through each row, so every difference reads a sample not yet changed.
  (func (export "undo8") (param $p i32) (param $n i32) (param $row i32) (param $ch i32)
    (local $stop i32) (local $rowEnd i32) (local $c i32) (local $i i32) (local $sum i32)
    (local.set $stop (i32.add (local.get $p) (local.get $n)))
    (block $rows_done
      (loop $rows
        (local.set $rowEnd (i32.add (local.get $p) (local.get $row)))
        (br_if $rows_done (i32.gt_u (local.get $rowEnd) (local.get $stop)))
        (local.set $c (local.get $p))
        (block $channels_done
          (loop $channels
            (br_if $channels_done
              (i32.ge_u (local.get $c) (i32.add (local.get $p) (local.get $ch))))
            (local.set $sum (i32.load8_u (local.get $c)))
            (local.set $i (i32.add (local.get $c) (local.get $ch)))
            (block $samples_done
              (loop $samples
                (br_if $samples_done (i32.ge_u (local.get $i) (local.get $rowEnd)))
                (local.set $sum (i32.add (local.get $sum) (i32.load8_u (local.get $i))))
                (i32.store8 (local.get $i) (local.get $sum))
                (local.set $i (i32.add (local.get $i) (local.get $ch)))
                (br $samples)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $channels)))
        (local.set $p (local.get $rowEnd))
        (br $rows))))

  ;; undo8 for 16-bit samples in this host's byte order ($row in bytes).
  (func (export "undo16") (param $p i32) (param $n i32) (param $row i32) (param $ch i32)
    (local $stop i32) (local $rowEnd i32) (local $c i32) (local $i i32) (local $sum i32)
    (local $step i32)
    (local.set $stop (i32.add (local.get $p) (local.get $n)))
    (local.set $step (i32.shl (local.get $ch) (i32.const 1)))
    (block $rows_done
      (loop $rows
        (local.set $rowEnd (i32.add (local.get $p) (local.get $row)))
        (br_if $rows_done (i32.gt_u (local.get $rowEnd) (local.get $stop)))
        (local.set $c (local.get $p))
        (block $channels_done
          (loop $channels
            (br_if $channels_done
              (i32.ge_u (local.get $c) (i32.add (local.get $p) (local.get $step))))
            (local.set $sum (i32.load16_u (local.get $c)))
            (local.set $i (i32.add (local.get $c) (local.get $step)))
            (block $samples_done
              (loop $samples
                (br_if $samples_done (i32.ge_u (local.get $i) (local.get $rowEnd)))
                (local.set $sum (i32.add (local.get $sum) (i32.load16_u (local.get $i))))
                (i32.store16 (local.get $i) (local.get $sum))
                (local.set $i (i32.add (local.get $i) (local.get $step)))
                (br $samples)))
            (local.set $c (i32.add (local.get $c) (i32.const 2)))
            (br $channels)))
        (local.set $p (local.get $rowEnd))
        (br $rows))))

  (func (export "apply8") (param $p i32) (param $n i32) (param $row i32) (param $ch i32)
    (local $stop i32) (local $rowEnd i32) (local $i i32) (local $first i32)
    (local.set $stop (i32.add (local.get $p) (local.get $n)))
    (block $rows_done
      (loop $rows
        (local.set $rowEnd (i32.add (local.get $p) (local.get $row)))
        (br_if $rows_done (i32.gt_u (local.get $rowEnd) (local.get $stop)))
        (local.set $first (i32.add (local.get $p) (local.get $ch)))
        (local.set $i (local.get $rowEnd))
        (block $samples_done
          (loop $samples
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br_if $samples_done (i32.lt_s (local.get $i) (local.get $first)))
            (i32.store8 (local.get $i)
              (i32.sub (i32.load8_u (local.get $i))
                (i32.load8_u (i32.sub (local.get $i) (local.get $ch)))))
            (br $samples)))
        (local.set $p (local.get $rowEnd))
        (br $rows))))

  (func (export "apply16") (param $p i32) (param $n i32) (param $row i32) (param $ch i32)
    (local $stop i32) (local $rowEnd i32) (local $i i32) (local $first i32) (local $step i32)
    (local.set $stop (i32.add (local.get $p) (local.get $n)))
    (local.set $step (i32.shl (local.get $ch) (i32.const 1)))
    (block $rows_done
      (loop $rows
        (local.set $rowEnd (i32.add (local.get $p) (local.get $row)))
        (br_if $rows_done (i32.gt_u (local.get $rowEnd) (local.get $stop)))
        (local.set $first (i32.add (local.get $p) (local.get $step)))
        (local.set $i (local.get $rowEnd))
        (block $samples_done
          (loop $samples
            (local.set $i (i32.sub (local.get $i) (i32.const 2)))
            (br_if $samples_done (i32.lt_s (local.get $i) (local.get $first)))
            (i32.store16 (local.get $i)
              (i32.sub (i32.load16_u (local.get $i))
                (i32.load16_u (i32.sub (local.get $i) (local.get $step)))))
            (br $samples)))
        (local.set $p (local.get $rowEnd))
        (br $rows))))
)
