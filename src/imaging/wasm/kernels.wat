;; Hot loops of the histogram and LUT kernels (see kernels.ts for the JavaScript side).
;;
;; Why WebAssembly: in V8 every typed-array access in `hist[v]++` or `lut[v]` is bounds-checked
;; in the loop; WebAssembly memory is checked by guard pages instead, and the same loops here
;; measured two to three times faster than the best JavaScript (README, Performance).
;;
;; The module owns a small fixed memory (no growth, so JavaScript views never detach). The
;; caller copies its samples chunk by chunk into CHUNK, calls a kernel, and (for LUTs) copies
;; the chunk back. Chunks stay cache-resident and every address below is 4-byte aligned.
;;
;; Memory layout (byte offsets):
;;   H0     0x00000  65536 × u32  counts of the low 16-bit half of each 32-bit word
;;   H1     0x40000  65536 × u32  counts of the high half
;;   TABLE  0x80000  65536 × u16  lookup table (the pair table for 8-bit, the LUT for 16-bit)
;;   OUT8   0xA0000  256 × u32    folded 8-bit histogram
;;   LUT8   0xA0400  256 × u8     the caller's 8-bit LUT, input of pair_table8
;;   CHUNK  0xB0000  CHUNK_BYTES (0x40000 = 256 KiB) of samples
;; 15 pages of 64 KiB in all.
(module
  (memory (export "memory") 15 15)

  ;; Zeroes H0, H1 and OUT8 before a histogram.
  (func (export "hist_reset")
    (memory.fill (i32.const 0x00000) (i32.const 0) (i32.const 0x80000))
    (memory.fill (i32.const 0xA0000) (i32.const 0) (i32.const 0x400)))

  ;; Counts the $n bytes at CHUNK ($n a multiple of 4) as 16-bit values: the low half of each
  ;; 32-bit word into H0, the high half into H1.
  ;; - 16-bit: each half is one sample, so H0 + H1 is the histogram (for grey+alpha H0 alone:
  ;;   H1 counted alpha). Two sub-histograms instead of one let runs of equal values (common in
  ;;   low-contrast images) update two different counters in turn, instead of serializing on
  ;;   one store-to-load dependency.
  ;; - 8-bit: the "pairs trick". Each half is a pair of adjacent samples (lo | hi << 8); one
  ;;   counter update counts two pixels, and fold8 splits pair counts into byte counts at the
  ;;   end (65536 + 65536 bins once per histogram, instead of work per pixel).
  (func (export "count_pairs") (param $n i32)
    (local $p i32) (local $end i32) (local $w i32) (local $a i32)
    (local.set $p (i32.const 0xB0000))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $w (i32.load (local.get $p)))
        ;; H0[w & 0xffff]++
        (local.set $a (i32.shl (i32.and (local.get $w) (i32.const 0xffff)) (i32.const 2)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        ;; H1[w >>> 16]++
        (local.set $a
          (i32.add (i32.const 0x40000) (i32.shl (i32.shr_u (local.get $w) (i32.const 16)) (i32.const 2))))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $next))))

  ;; 8-bit: adds the pair counts of H0 + H1 to OUT8. Pair v = lo | hi << 8 holds the samples
  ;; lo (first) and hi (second). Walking hi in the outer loop keeps the count of hi in a local
  ;; and makes consecutive updates hit different OUT8[lo], so they do not wait on each other.
  ;; With $alpha (grey+alpha, interleaved g a g a) hi is alpha, which is never counted.
  ;; (16-bit needs no fold here: the caller adds H0 + H1, or H0 alone for grey+alpha.)
  (func (export "fold8") (param $alpha i32)
    (local $hi i32) (local $lo i32) (local $a i32) (local $c i32) (local $sum i32)
    (loop $rows
      (local.set $sum (i32.const 0))
      (local.set $lo (i32.const 0))
      (loop $cols
        ;; $a = 4 * (hi << 8 | lo), the pair's offset in H0 and in H1
        (local.set $a
          (i32.shl (i32.or (i32.shl (local.get $hi) (i32.const 8)) (local.get $lo)) (i32.const 2)))
        (local.set $c
          (i32.add (i32.load (local.get $a)) (i32.load (i32.add (i32.const 0x40000) (local.get $a)))))
        (local.set $sum (i32.add (local.get $sum) (local.get $c)))
        ;; OUT8[lo] += c
        (local.set $a (i32.add (i32.const 0xA0000) (i32.shl (local.get $lo) (i32.const 2))))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (local.get $c)))
        (local.set $lo (i32.add (local.get $lo) (i32.const 1)))
        (br_if $cols (i32.lt_u (local.get $lo) (i32.const 256))))
      (if (i32.eqz (local.get $alpha))
        (then
          ;; OUT8[hi] += the count of all pairs whose second sample is hi
          (local.set $a (i32.add (i32.const 0xA0000) (i32.shl (local.get $hi) (i32.const 2))))
          (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (local.get $sum)))))
      (local.set $hi (i32.add (local.get $hi) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $hi) (i32.const 256)))))

  ;; 8-bit: builds the pair table TABLE[v] = LUT8[v & 0xff] | LUT8[v >>> 8] << 8 from the LUT
  ;; at LUT8, so map_halves maps two pixels per 16-bit load. With $alpha the second byte (alpha)
  ;; passes through unchanged: TABLE[v] = LUT8[v & 0xff] | (v & 0xff00).
  (func (export "pair_table8") (param $alpha i32)
    (local $v i32) (local $hi i32)
    (loop $next
      (local.set $hi
        (if (result i32) (local.get $alpha)
          (then (i32.and (local.get $v) (i32.const 0xff00)))
          (else
            (i32.shl
              (i32.load8_u (i32.add (i32.const 0xA0400) (i32.shr_u (local.get $v) (i32.const 8))))
              (i32.const 8)))))
      (i32.store16
        (i32.add (i32.const 0x80000) (i32.shl (local.get $v) (i32.const 1)))
        (i32.or
          (i32.load8_u (i32.add (i32.const 0xA0400) (i32.and (local.get $v) (i32.const 0xff))))
          (local.get $hi)))
      (local.set $v (i32.add (local.get $v) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $v) (i32.const 65536)))))

  ;; Maps the $n bytes at CHUNK ($n a multiple of 4) in place through TABLE, one 16-bit half of
  ;; each word at a time: two pixels per lookup for 8-bit (pair table), one for 16-bit (the LUT
  ;; itself, copied to TABLE).
  (func (export "map_halves") (param $n i32)
    (local $p i32) (local $end i32) (local $w i32)
    (local.set $p (i32.const 0xB0000))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $w (i32.load (local.get $p)))
        (i32.store (local.get $p)
          (i32.or
            (i32.load16_u
              (i32.add (i32.const 0x80000) (i32.shl (i32.and (local.get $w) (i32.const 0xffff)) (i32.const 1))))
            (i32.shl
              (i32.load16_u
                (i32.add (i32.const 0x80000) (i32.shl (i32.shr_u (local.get $w) (i32.const 16)) (i32.const 1))))
              (i32.const 16))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $next))))

  ;; 16-bit grey+alpha: maps only the low half (grey) of each word through TABLE and keeps the
  ;; high half (alpha).
  (func (export "map_low_half") (param $n i32)
    (local $p i32) (local $end i32) (local $w i32)
    (local.set $p (i32.const 0xB0000))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $w (i32.load (local.get $p)))
        (i32.store (local.get $p)
          (i32.or
            (i32.load16_u
              (i32.add (i32.const 0x80000) (i32.shl (i32.and (local.get $w) (i32.const 0xffff)) (i32.const 1))))
            (i32.and (local.get $w) (i32.const 0xffff0000))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $next)))))
