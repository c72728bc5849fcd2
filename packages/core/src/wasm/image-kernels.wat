;; The VAE decoder's output to an image and its display bytes (core's modelRangeToImage then displayBytesOf) over
;; arrays in this module's memory, four values a time, with the JavaScript loops' bits:
;; - the image value clamp(x / 2 + 0.5, 0, 1) in float32 lanes. The JavaScript adds in float64 and rounds to
;;   float32 when it stores; rounding the sum of two float32 values to float64 first and then to float32 gives
;;   the float32 sum's correct rounding (float64 has more than 2·24 + 2 bits), x / 2 is exact in both (a
;;   float32 x so small that x / 2 is inexact in float32 leaves 0.5 + x / 2 at 0.5 either way), and the clamp
;;   to the representable 0 and 1 commutes with that rounding;
;; - the display byte (f · 255 + 0.5) | 0 of the stored float32 f in float64 lanes, where it is exact.
;; WebAssembly does not fuse or reorder float operations. The kernel says when it saw a NaN (whose payload and
;; missing display byte the JavaScript decides), and the caller then runs the JavaScript loops.
;; Build: `npm run wasm` (packages/core/scripts/build-wasm.mjs) writes image-kernels-binary.ts.
(module
  (memory (export "memory") 1)

  ;; src: decoded float32 values; image: float32 out; bytes: one byte a value out (byte offsets; src and image
  ;; 16-byte aligned); n: a count of values that is a multiple of 4. Returns 1 when an image value is a NaN.
  (func (export "decodedToImage")
    (param $src i32) (param $image i32) (param $bytes i32) (param $n i32) (result i32)
    (local $i i32) (local $end i32) (local $b i32) (local $V v128) (local $NAN v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $b (local.get $bytes))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $V
          (f32x4.add
            (f32x4.mul
              (v128.load (i32.add (local.get $src) (local.get $i)))
              (f32x4.splat (f32.const 0.5)))
            (f32x4.splat (f32.const 0.5))))
        ;; v < 0 ? 0 : v > 1 ? 1 : v (a NaN stays; v is never -0: x / 2 + 0.5 is +0 where it is zero)
        (local.set $V
          (v128.bitselect
            (f32x4.splat (f32.const 0))
            (local.get $V)
            (f32x4.lt (local.get $V) (f32x4.splat (f32.const 0)))))
        (local.set $V
          (v128.bitselect
            (f32x4.splat (f32.const 1))
            (local.get $V)
            (f32x4.gt (local.get $V) (f32x4.splat (f32.const 1)))))
        (local.set $NAN (v128.or (local.get $NAN) (f32x4.ne (local.get $V) (local.get $V))))
        (v128.store (i32.add (local.get $image) (local.get $i)) (local.get $V))
        ;; the bytes: 0 at +0, 255 at 1
        (v128.store32_lane 0
          (local.get $b)
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_u
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                (call $byteOf (f64x2.promote_low_f32x4 (local.get $V)))
                (call $byteOf
                  (f64x2.promote_low_f32x4
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $V) (local.get $V)))))
              (v128.const i32x4 0 0 0 0))
            (v128.const i16x8 0 0 0 0 0 0 0 0)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $quads)))
    (v128.any_true (local.get $NAN)))

  ;; (f · 255 + 0.5) | 0 of two image values f in [0, 1], in the two low lanes
  (func $byteOf (param $f v128) (result v128)
    (i32x4.trunc_sat_f64x2_s_zero
      (f64x2.add
        (f64x2.mul (local.get $f) (f64x2.splat (f64.const 255)))
        (f64x2.splat (f64.const 0.5))))))
