;; The guided DDIM ε step (core's guidedEpsilonStep), and DiffEdit's background blend after it (diffEditBlend), over
;; float32 arrays in this module's memory, two values a
;; time in f64x2 lanes: the same float64 operations in the same order, rounded to float32 where the JavaScript
;; rounds (Math.fround, typed-array stores). WebAssembly does not fuse or reorder float operations, so every
;; result that is not a NaN has the JavaScript loop's bits. Which operand's payload a NaN takes when two NaNs
;; meet is the engine's choice: the kernel says when it saw a NaN, and the caller then runs the JavaScript loop.
;; Build: `npm run wasm` (packages/core/scripts/build-wasm.mjs) writes step-kernels-binary.ts.
(module
  (memory (export "memory") 1)

  ;; u, c, x: inputs; out, x0: outputs (byte offsets, 8-byte aligned); n: an even count of values.
  ;; hi: fround(clip range) when clip is 1. Returns 1 when o or x̂0 (before the clip) held a NaN.
  (func (export "guidedStep")
    (param $u i32) (param $c i32) (param $x i32) (param $out i32) (param $x0 i32) (param $n i32)
    (param $g f64) (param $sa f64) (param $sb f64) (param $c1 f64) (param $c2 f64) (param $hi f64)
    (param $clip i32) (result i32)
    (local $i i32) (local $end i32) (local $U v128) (local $O v128) (local $V v128) (local $G v128)
    (local $SA v128) (local $SB v128) (local $C1 v128) (local $C2 v128) (local $HI v128) (local $LO v128)
    (local $NAN v128)
    (local.set $G (f64x2.splat (local.get $g)))
    (local.set $SA (f64x2.splat (local.get $sa)))
    (local.set $SB (f64x2.splat (local.get $sb)))
    (local.set $C1 (f64x2.splat (local.get $c1)))
    (local.set $C2 (f64x2.splat (local.get $c2)))
    (local.set $HI (f64x2.splat (local.get $hi)))
    (local.set $LO (f64x2.neg (local.get $HI)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $U
          (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $u) (local.get $i)))))
        ;; o = fround(u + g·(c − u))
        (local.set $O
          (f64x2.promote_low_f32x4
            (f32x4.demote_f64x2_zero
              (f64x2.add
                (local.get $U)
                (f64x2.mul
                  (local.get $G)
                  (f64x2.sub
                    (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $c) (local.get $i))))
                    (local.get $U)))))))
        ;; v = fround((x − sb·o) / sa)
        (local.set $V
          (f64x2.promote_low_f32x4
            (f32x4.demote_f64x2_zero
              (f64x2.div
                (f64x2.sub
                  (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x) (local.get $i))))
                  (f64x2.mul (local.get $SB) (local.get $O)))
                (local.get $SA)))))
        (local.set $NAN
          (v128.or
            (local.get $NAN)
            (v128.or (f64x2.ne (local.get $O) (local.get $O)) (f64x2.ne (local.get $V) (local.get $V)))))
        ;; the clip as the JavaScript picks it: hi when v > hi, lo when v < lo, else v itself
        (if (local.get $clip)
          (then
            (local.set $V
              (v128.bitselect (local.get $HI) (local.get $V) (f64x2.gt (local.get $V) (local.get $HI))))
            (local.set $V
              (v128.bitselect (local.get $LO) (local.get $V) (f64x2.lt (local.get $V) (local.get $LO))))))
        (v128.store64_lane 0
          (i32.add (local.get $x0) (local.get $i))
          (f32x4.demote_f64x2_zero (local.get $V)))
        ;; out = c1·x̂0 + c2·o
        (v128.store64_lane 0
          (i32.add (local.get $out) (local.get $i))
          (f32x4.demote_f64x2_zero
            (f64x2.add
              (f64x2.mul (local.get $C1) (local.get $V))
              (f64x2.mul (local.get $C2) (local.get $O)))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $pairs)))
    (v128.any_true (local.get $NAN)))

  ;; diffEditBlend in place over c planes of `plane` values at x: x = x·m + bg·(1 − m), m the mask plane at
  ;; $mask for every channel (byte offsets, 8-byte aligned; plane even). Returns 1 when a result is a NaN.
  (func (export "blend")
    (param $x i32) (param $mask i32) (param $bg i32) (param $plane i32) (param $c i32) (result i32)
    (local $k i32) (local $row i32) (local $end i32) (local $at i32) (local $W v128) (local $R v128)
    (local $NAN v128)
    (local.set $row (i32.shl (local.get $plane) (i32.const 2)))
    (local.set $end (i32.mul (local.get $row) (local.get $c)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        ;; the mask's pair for this position in its plane
        (if (i32.ge_u (local.get $k) (local.get $row)) (then (local.set $k (i32.const 0))))
        (local.set $W
          (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $mask) (local.get $k)))))
        (local.set $R
          (f64x2.add
            (f64x2.mul
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x) (local.get $at))))
              (local.get $W))
            (f64x2.mul
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $bg) (local.get $at))))
              (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $W)))))
        (local.set $NAN (v128.or (local.get $NAN) (f64x2.ne (local.get $R) (local.get $R))))
        (v128.store64_lane 0
          (i32.add (local.get $x) (local.get $at))
          (f32x4.demote_f64x2_zero (local.get $R)))
        (local.set $k (i32.add (local.get $k) (i32.const 8)))
        (local.set $at (i32.add (local.get $at) (i32.const 8)))
        (br $pairs)))
    (v128.any_true (local.get $NAN))))
