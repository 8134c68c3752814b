;; Hot loops of CLAHE: per-tile histograms and the bilinear blend of tile tables (see
;; clahe-kernels.ts for the JavaScript side, which lays out the memory and copies data in/out).
;;
;; Why WebAssembly: in V8 every typed-array access in the per-pixel loops is bounds-checked, and
;; float32 arithmetic needs Math.fround after every operation; here f32 operations are native
;; IEEE single precision, which is exactly what OpenCV computes in.
;;
;; The memory grows when a job needs more (16-bit tables, wide images); the caller lays out
;; every region itself and passes byte addresses. Samples are read with a byte stride, so one
;; kernel serves grey, one channel of interleaved pixels, and a separate luma row. The blend
;; kernels use 128-bit SIMD (part of WebAssembly since 2021, in V8 since Node 16.4).
(module
  (memory (export "memory") 1)

  ;; Adds $rows rows of 8-bit samples at $src (row after row $rowBytes apart, samples $stride
  ;; bytes apart, $width per row) to the histograms at $hist: per tile column of $tileWidth
  ;; samples, four sub-histograms of 256 u32 (4 KiB), one for each sample position modulo 4,
  ;; so runs of equal values update four counters in turn instead of waiting on one. The caller
  ;; adds the four up.
  (func (export "hist8")
    (param $src i32) (param $stride i32) (param $width i32) (param $tileWidth i32)
    (param $hist i32) (param $rows i32) (param $rowBytes i32)
    (local $p i32) (local $x i32) (local $end i32) (local $end4 i32) (local $h i32) (local $a i32)
    (local $s2 i32) (local $s3 i32) (local $s4 i32)
    (local.set $s2 (i32.shl (local.get $stride) (i32.const 1)))
    (local.set $s3 (i32.add (local.get $s2) (local.get $stride)))
    (local.set $s4 (i32.shl (local.get $stride) (i32.const 2)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.eqz (local.get $rows)))
        (local.set $p (local.get $src))
        (local.set $x (i32.const 0))
        (local.set $h (local.get $hist))
        (block $tilesDone
          (loop $tile
            (br_if $tilesDone (i32.ge_u (local.get $x) (local.get $width)))
            (local.set $end (i32.add (local.get $x) (local.get $tileWidth)))
            (if (i32.gt_u (local.get $end) (local.get $width))
              (then (local.set $end (local.get $width))))
            (local.set $end4 (i32.sub (local.get $end) (i32.const 3)))
            (block $quadsDone
              (loop $quad
                (br_if $quadsDone (i32.ge_s (local.get $x) (local.get $end4)))
                (local.set $a (i32.add (local.get $h) (i32.shl (i32.load8_u (local.get $p)) (i32.const 2))))
                (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
                (local.set $a (i32.add (local.get $h)
                  (i32.shl (i32.load8_u (i32.add (local.get $p) (local.get $stride))) (i32.const 2))))
                (i32.store offset=1024 (local.get $a) (i32.add (i32.load offset=1024 (local.get $a)) (i32.const 1)))
                (local.set $a (i32.add (local.get $h)
                  (i32.shl (i32.load8_u (i32.add (local.get $p) (local.get $s2))) (i32.const 2))))
                (i32.store offset=2048 (local.get $a) (i32.add (i32.load offset=2048 (local.get $a)) (i32.const 1)))
                (local.set $a (i32.add (local.get $h)
                  (i32.shl (i32.load8_u (i32.add (local.get $p) (local.get $s3))) (i32.const 2))))
                (i32.store offset=3072 (local.get $a) (i32.add (i32.load offset=3072 (local.get $a)) (i32.const 1)))
                (local.set $p (i32.add (local.get $p) (local.get $s4)))
                (local.set $x (i32.add (local.get $x) (i32.const 4)))
                (br $quad)))
            (block $tailDone
              (loop $one
                (br_if $tailDone (i32.ge_u (local.get $x) (local.get $end)))
                (local.set $a (i32.add (local.get $h) (i32.shl (i32.load8_u (local.get $p)) (i32.const 2))))
                (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (local.set $x (i32.add (local.get $x) (i32.const 1)))
                (br $one)))
            (local.set $h (i32.add (local.get $h) (i32.const 4096)))
            (br $tile)))
        (local.set $src (i32.add (local.get $src) (local.get $rowBytes)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  ;; The same for 16-bit samples: one histogram of 65536 u32 (256 KiB) per tile column, two
  ;; samples at a time.
  (func (export "hist16")
    (param $src i32) (param $stride i32) (param $width i32) (param $tileWidth i32)
    (param $hist i32) (param $rows i32) (param $rowBytes i32)
    (local $p i32) (local $x i32) (local $end i32) (local $end2 i32) (local $h i32) (local $a i32)
    (local $s2 i32)
    (local.set $s2 (i32.shl (local.get $stride) (i32.const 1)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.eqz (local.get $rows)))
        (local.set $p (local.get $src))
        (local.set $x (i32.const 0))
        (local.set $h (local.get $hist))
        (block $tilesDone
          (loop $tile
            (br_if $tilesDone (i32.ge_u (local.get $x) (local.get $width)))
            (local.set $end (i32.add (local.get $x) (local.get $tileWidth)))
            (if (i32.gt_u (local.get $end) (local.get $width))
              (then (local.set $end (local.get $width))))
            (local.set $end2 (i32.sub (local.get $end) (i32.const 1)))
            (block $pairsDone
              (loop $pair
                (br_if $pairsDone (i32.ge_s (local.get $x) (local.get $end2)))
                (local.set $a (i32.add (local.get $h) (i32.shl (i32.load16_u (local.get $p)) (i32.const 2))))
                (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
                (local.set $a (i32.add (local.get $h)
                  (i32.shl (i32.load16_u (i32.add (local.get $p) (local.get $stride))) (i32.const 2))))
                (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
                (local.set $p (i32.add (local.get $p) (local.get $s2)))
                (local.set $x (i32.add (local.get $x) (i32.const 2)))
                (br $pair)))
            (if (i32.lt_u (local.get $x) (local.get $end))
              (then
                (local.set $a (i32.add (local.get $h) (i32.shl (i32.load16_u (local.get $p)) (i32.const 2))))
                (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (local.set $x (i32.add (local.get $x) (i32.const 1)))))
            (local.set $h (i32.add (local.get $h) (i32.const 262144)))
            (br $tile)))
        (local.set $src (i32.add (local.get $src) (local.get $rowBytes)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  ;; One row of the bilinear blend at 8 bits: sample v at byte $src + x becomes, at $dst + x (in
  ;; place when $dst is $src),
  ;;   nearest_even((T1[c1 + v] × xa1 + T1[c2 + v] × xa) × ya1 + (T2[c1 + v] × xa1 + T2[c2 + v] × xa) × ya)
  ;; saturated to 255, every product and sum in float32 and in OpenCV's order (four pixels per
  ;; f32x4 operation give the same bits as one at a time: each lane is one IEEE single
  ;; operation). T1 and T2 are the tables of the row's two tile rows, c1 and c2 its left and right
  ;; tile. $pairs holds them regrouped per tile pair a column can blend (clahe-kernels.ts,
  ;; pairTablesAt): 256 entries of 16 bytes, [T1[c1 + v], T1[c2 + v], T2[c1 + v], T2[c2 + v]] as
  ;; float32 (exact: integers below 256), so the four values a pixel needs are one 128-bit load
  ;; instead of four lane loads (WebAssembly has no gather). Four pixels' loads are transposed
  ;; into the four operand vectors. Per column, $cols holds four arrays of width rounded up to 4
  ;; entries, one after the other: the byte offset of the column's tile pair inside $pairs (i32),
  ;; an array this kernel does not read, then the weights xa1 and xa (f32). The samples are
  ;; contiguous (a stride test in the loop cost a fifth of its time): interleaved samples go
  ;; through gather8 and scatter8.
  (func (export "blend8")
    (param $src i32) (param $dst i32) (param $width i32) (param $cols i32) (param $pairs i32)
    (param $ya1 f32) (param $ya f32)
    (local $x i32) (local $span i32) (local $q i32) (local $r1 i32)
    (local $at v128) (local $base v128) (local $p0 v128) (local $p1 v128) (local $p2 v128)
    (local $p3 v128) (local $lo v128) (local $hi v128) (local $lo2 v128) (local $hi2 v128)
    (local $wa1 v128) (local $wa v128) (local $r v128) (local $y1 v128) (local $y v128)
    ;; Bytes between the four column arrays: width rounded up to 4, times 4.
    (local.set $span (i32.shl (i32.and (i32.add (local.get $width) (i32.const 3)) (i32.const -4)) (i32.const 2)))
    (local.set $y1 (f32x4.splat (local.get $ya1)))
    (local.set $y (f32x4.splat (local.get $ya)))
    (local.set $base (i32x4.splat (local.get $pairs)))
    (block $quadsDone
      (loop $quad
        (br_if $quadsDone (i32.gt_s (i32.add (local.get $x) (i32.const 4)) (local.get $width)))
        ;; The four pixels' entry addresses: $pairs + tile pair offset + v × 16.
        (local.set $at
          (i32x4.add
            (i32x4.add (local.get $base) (v128.load (local.get $cols)))
            (i32x4.shl
              (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $src))))
              (i32.const 4))))
        ;; Pixel i's entry [a_i, b_i, c_i, d_i] (T1 left, T1 right, T2 left, T2 right).
        (local.set $p0 (v128.load (i32x4.extract_lane 0 (local.get $at))))
        (local.set $p1 (v128.load (i32x4.extract_lane 1 (local.get $at))))
        (local.set $p2 (v128.load (i32x4.extract_lane 2 (local.get $at))))
        (local.set $p3 (v128.load (i32x4.extract_lane 3 (local.get $at))))
        ;; Transposed: [a0 a1 b0 b1], [a2 a3 b2 b3], [c0 c1 d0 d1], [c2 c3 d2 d3] ...
        (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $p0) (local.get $p1)))
        (local.set $lo2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $p2) (local.get $p3)))
        (local.set $hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $p0) (local.get $p1)))
        (local.set $hi2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $p2) (local.get $p3)))
        (local.set $wa1 (v128.load (i32.add (local.get $cols) (i32.shl (local.get $span) (i32.const 1)))))
        (local.set $wa (v128.load (i32.add (local.get $cols) (i32.mul (local.get $span) (i32.const 3)))))
        ;; ... then [a0 a1 a2 a3] and so on, straight into the arithmetic.
        (local.set $r
          (i32x4.trunc_sat_f32x4_s
            (f32x4.nearest
              (f32x4.add
                (f32x4.mul
                  (f32x4.add
                    (f32x4.mul (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $lo) (local.get $lo2)) (local.get $wa1))
                    (f32x4.mul (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $lo) (local.get $lo2)) (local.get $wa)))
                  (local.get $y1))
                (f32x4.mul
                  (f32x4.add
                    (f32x4.mul (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $hi) (local.get $hi2)) (local.get $wa1))
                    (f32x4.mul (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $hi) (local.get $hi2)) (local.get $wa)))
                  (local.get $y))))))
        ;; Both narrowings saturate, so results above 255 (never more than rounding) end at 255.
        (local.set $r (i8x16.narrow_i16x8_u (i16x8.narrow_i32x4_u (local.get $r) (local.get $r)) (local.get $r)))
        (v128.store32_lane 0 (local.get $dst) (local.get $r))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $cols (i32.add (local.get $cols) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $quad)))
    ;; The last width mod 4 pixels one by one, in the same arithmetic.
    (block $done
      (loop $one
        (br_if $done (i32.ge_s (local.get $x) (local.get $width)))
        (local.set $q
          (i32.add (i32.add (local.get $pairs) (i32.load (local.get $cols)))
            (i32.shl (i32.load8_u (local.get $src)) (i32.const 4))))
        (local.set $r1
          (i32.trunc_sat_f32_u
            (f32.nearest
              (f32.add
                (f32.mul
                  (f32.add
                    (f32.mul (f32.load (local.get $q))
                      (f32.load (i32.add (local.get $cols) (i32.shl (local.get $span) (i32.const 1)))))
                    (f32.mul (f32.load offset=4 (local.get $q))
                      (f32.load (i32.add (local.get $cols) (i32.mul (local.get $span) (i32.const 3))))))
                  (local.get $ya1))
                (f32.mul
                  (f32.add
                    (f32.mul (f32.load offset=8 (local.get $q))
                      (f32.load (i32.add (local.get $cols) (i32.shl (local.get $span) (i32.const 1)))))
                    (f32.mul (f32.load offset=12 (local.get $q))
                      (f32.load (i32.add (local.get $cols) (i32.mul (local.get $span) (i32.const 3))))))
                  (local.get $ya))))))
        (i32.store8 (local.get $dst)
          (select (local.get $r1) (i32.const 255) (i32.lt_u (local.get $r1) (i32.const 255))))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $cols (i32.add (local.get $cols) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $one))))

  ;; One row of the bilinear blend at 16 bits, the same arithmetic with saturation to 65535. A
  ;; 16-bit tile pair would need 1 MiB per pair (65,536 entries of 16 bytes), so here T1 and T2
  ;; are float32 copies of the two tile rows ($row1, $row2: addresses of their first tile's
  ;; table) and the sixteen entries of four pixels are loaded lane by lane. Per column, $cols
  ;; holds four arrays of width rounded up to 4 entries: c1 and c2 (byte offsets of the left and
  ;; right tile's table inside a tile row, i32), xa1 and xa (their weights, f32).
  ;; $width samples $stride bytes apart from $src, to contiguous bytes at $dst.
  (func (export "gather8") (param $src i32) (param $stride i32) (param $width i32) (param $dst i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $dst) (local.get $width)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store8 (local.get $dst) (i32.load8_u (local.get $src)))
        (local.set $src (i32.add (local.get $src) (local.get $stride)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (br $one))))

  ;; The reverse: $width contiguous bytes at $src to samples $stride bytes apart from $dst.
  (func (export "scatter8") (param $src i32) (param $dst i32) (param $stride i32) (param $width i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $src) (local.get $width)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (i32.store8 (local.get $dst) (i32.load8_u (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
        (br $one))))

  (func (export "blend16")
    (param $src i32) (param $dst i32) (param $stride i32) (param $width i32) (param $cols i32)
    (param $row1 i32) (param $row2 i32) (param $ya1 f32) (param $ya f32)
    (local $x i32) (local $span i32) (local $v i32) (local $a i32) (local $b i32) (local $c1 i32)
    (local $c2 i32) (local $r1 i32) (local $xa1 f32) (local $xa f32)
    (local $values v128) (local $ca v128) (local $cb v128) (local $wa1 v128) (local $wa v128)
    (local $up v128) (local $down v128) (local $r v128) (local $y1 v128) (local $y v128)
    ;; Bytes between the four column arrays: width rounded up to 4, times 4.
    (local.set $span (i32.shl (i32.and (i32.add (local.get $width) (i32.const 3)) (i32.const -4)) (i32.const 2)))
    (local.set $y1 (f32x4.splat (local.get $ya1)))
    (local.set $y (f32x4.splat (local.get $ya)))
    ;; Four pixels at a time: their values as byte offsets of float32 entries (v × 4).
    (block $quadsDone
      (loop $quad
        (br_if $quadsDone (i32.gt_s (i32.add (local.get $x) (i32.const 4)) (local.get $width)))
        (local.set $values
          (i32x4.shl
            (i32x4.extend_low_i16x8_u (if (result v128) (i32.eq (local.get $stride) (i32.const 2))
              (then (v128.load64_zero (local.get $src)))
              (else (v128.load16_lane 3 (i32.add (local.get $src) (i32.mul (local.get $stride) (i32.const 3)))
                (v128.load16_lane 2 (i32.add (local.get $src) (i32.mul (local.get $stride) (i32.const 2)))
                (v128.load16_lane 1 (i32.add (local.get $src) (i32.mul (local.get $stride) (i32.const 1)))
                (v128.load16_lane 0 (local.get $src)
                (v128.const i32x4 0 0 0 0))))))))
            (i32.const 2)))
        (local.set $ca (i32x4.add (local.get $values) (v128.load (local.get $cols))))
        (local.set $cb (i32x4.add (local.get $values) (v128.load (i32.add (local.get $cols) (local.get $span)))))
        (local.set $wa1 (v128.load (i32.add (local.get $cols) (i32.shl (local.get $span) (i32.const 1)))))
        (local.set $wa (v128.load (i32.add (local.get $cols) (i32.mul (local.get $span) (i32.const 3)))))
        (local.set $up
          (f32x4.add
            (f32x4.mul (v128.load32_lane 3 (i32.add (local.get $row1) (i32x4.extract_lane 3 (local.get $ca)))
              (v128.load32_lane 2 (i32.add (local.get $row1) (i32x4.extract_lane 2 (local.get $ca)))
              (v128.load32_lane 1 (i32.add (local.get $row1) (i32x4.extract_lane 1 (local.get $ca)))
              (v128.load32_lane 0 (i32.add (local.get $row1) (i32x4.extract_lane 0 (local.get $ca)))
              (v128.const i32x4 0 0 0 0))))) (local.get $wa1))
            (f32x4.mul (v128.load32_lane 3 (i32.add (local.get $row1) (i32x4.extract_lane 3 (local.get $cb)))
              (v128.load32_lane 2 (i32.add (local.get $row1) (i32x4.extract_lane 2 (local.get $cb)))
              (v128.load32_lane 1 (i32.add (local.get $row1) (i32x4.extract_lane 1 (local.get $cb)))
              (v128.load32_lane 0 (i32.add (local.get $row1) (i32x4.extract_lane 0 (local.get $cb)))
              (v128.const i32x4 0 0 0 0))))) (local.get $wa))))
        (local.set $down
          (f32x4.add
            (f32x4.mul (v128.load32_lane 3 (i32.add (local.get $row2) (i32x4.extract_lane 3 (local.get $ca)))
              (v128.load32_lane 2 (i32.add (local.get $row2) (i32x4.extract_lane 2 (local.get $ca)))
              (v128.load32_lane 1 (i32.add (local.get $row2) (i32x4.extract_lane 1 (local.get $ca)))
              (v128.load32_lane 0 (i32.add (local.get $row2) (i32x4.extract_lane 0 (local.get $ca)))
              (v128.const i32x4 0 0 0 0))))) (local.get $wa1))
            (f32x4.mul (v128.load32_lane 3 (i32.add (local.get $row2) (i32x4.extract_lane 3 (local.get $cb)))
              (v128.load32_lane 2 (i32.add (local.get $row2) (i32x4.extract_lane 2 (local.get $cb)))
              (v128.load32_lane 1 (i32.add (local.get $row2) (i32x4.extract_lane 1 (local.get $cb)))
              (v128.load32_lane 0 (i32.add (local.get $row2) (i32x4.extract_lane 0 (local.get $cb)))
              (v128.const i32x4 0 0 0 0))))) (local.get $wa))))
        (local.set $r
          (i32x4.min_u
            (i32x4.trunc_sat_f32x4_u
              (f32x4.nearest
                (f32x4.add (f32x4.mul (local.get $up) (local.get $y1)) (f32x4.mul (local.get $down) (local.get $y)))))
            (i32x4.splat (i32.const 65535))))
        (if (i32.eq (local.get $stride) (i32.const 2))
          (then (v128.store64_lane 0 (local.get $dst) (i16x8.narrow_i32x4_u (local.get $r) (local.get $r))))
          (else
            (local.set $r (i16x8.narrow_i32x4_u (local.get $r) (local.get $r)))
            (v128.store16_lane 0 (local.get $dst) (local.get $r))
              (v128.store16_lane 1 (i32.add (local.get $dst) (i32.mul (local.get $stride) (i32.const 1))) (local.get $r))
              (v128.store16_lane 2 (i32.add (local.get $dst) (i32.mul (local.get $stride) (i32.const 2))) (local.get $r))
              (v128.store16_lane 3 (i32.add (local.get $dst) (i32.mul (local.get $stride) (i32.const 3))) (local.get $r))))
        (local.set $src (i32.add (local.get $src) (i32.shl (local.get $stride) (i32.const 2))))
        (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $stride) (i32.const 2))))
        (local.set $cols (i32.add (local.get $cols) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $quad)))
    ;; The last width mod 4 pixels one by one, in the same arithmetic.
    (block $done
      (loop $one
        (br_if $done (i32.ge_s (local.get $x) (local.get $width)))
        (local.set $v (i32.shl (i32.load16_u (local.get $src)) (i32.const 2)))
        (local.set $a (i32.add (local.get $row1) (local.get $v)))
        (local.set $b (i32.add (local.get $row2) (local.get $v)))
        (local.set $c1 (i32.load (local.get $cols)))
        (local.set $c2 (i32.load (i32.add (local.get $cols) (local.get $span))))
        (local.set $xa1 (f32.load (i32.add (local.get $cols) (i32.shl (local.get $span) (i32.const 1)))))
        (local.set $xa (f32.load (i32.add (local.get $cols) (i32.mul (local.get $span) (i32.const 3)))))
        (local.set $r1
          (i32.trunc_sat_f32_u
            (f32.nearest
              (f32.add
                (f32.mul
                  (f32.add
                    (f32.mul (f32.load (i32.add (local.get $a) (local.get $c1))) (local.get $xa1))
                    (f32.mul (f32.load (i32.add (local.get $a) (local.get $c2))) (local.get $xa)))
                  (local.get $ya1))
                (f32.mul
                  (f32.add
                    (f32.mul (f32.load (i32.add (local.get $b) (local.get $c1))) (local.get $xa1))
                    (f32.mul (f32.load (i32.add (local.get $b) (local.get $c2))) (local.get $xa)))
                  (local.get $ya))))))
        (i32.store16 (local.get $dst)
          (select (local.get $r1) (i32.const 65535) (i32.lt_u (local.get $r1) (i32.const 65535))))
        (local.set $src (i32.add (local.get $src) (local.get $stride)))
        (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
        (local.set $cols (i32.add (local.get $cols) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $one))))
)
