/**
 * The two conv-gradient kernels that the stock TF.js wasm backend lacks (RECIPES.md section 2).
 *
 * Without `Conv2DBackpropFilter` the wasm backend cannot train any conv net; its own
 * `Conv2DBackpropInput` is a scalar loop. Both are re-expressed here as a single call of the
 * fast XNNPACK forward convolution, with every shape and padding derived from TF.js's own
 * `computeConv2DInfo`, so they agree with the cpu backend to float precision (checked in
 * test/unit/wasmConvGrads.test.ts).
 */
import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;
type Backend = tf.KernelBackend & {
  disposeData(dataId: unknown): boolean;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Float32Array): Info;
};
type Conv2DAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

function kernel(name: string) {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm backend has no '${name}' kernel; is @tensorflow/tfjs-backend-wasm 4.22 loaded?`);
  return k.kernelFunc as (args: { inputs: Record<string, Info>; backend: Backend; attrs?: Record<string, unknown> }) => Info;
}

function run(name: string, backend: Backend, inputs: Record<string, Info>, attrs: Record<string, unknown>): Info {
  return kernel(name)({ inputs, backend, attrs });
}

function pair(v: [number, number] | number): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

function checkNHWC(attrs: Conv2DAttrs, which: string): void {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${which} on wasm supports NHWC only (got ${attrs.dataFormat})`);
  }
}

/**
 * dW[a,b,c,o] = sum_{n,i,j} xpad[n, i*s+a, j*s+b, c] dy[n,i,j,o]: a forward conv of x with batch and
 * channel axes swapped, using dy (axes swapped) as the filter and the forward stride as dilation.
 */
function conv2DBackpropFilter(args: { inputs: Record<string, Info>; backend: unknown; attrs?: unknown }): Info {
  const backend = args.backend as Backend;
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = args.attrs as Conv2DAttrs & { filterShape: [number, number, number, number] };
  checkNHWC(attrs, 'Conv2DBackpropFilter');
  const [fh, fw, inC, outC] = attrs.filterShape;
  const [sh, sw] = pair(attrs.strides);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], attrs.filterShape, [sh, sw], 1, attrs.pad, attrs.dimRoundingMode);
  const { top, bottom, left, right } = info.padInfo;
  const xT = run('Transpose', backend, { x }, { perm: [3, 1, 2, 0] });         // [C, H, W, N]
  const dyT = run('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] });    // [Ho, Wo, N, O]
  const conv = run('Conv2D', backend, { x: xT, filter: dyT }, {
    strides: [1, 1], dilations: [sh, sw], dataFormat: 'NHWC', dimRoundingMode: undefined,
    pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
  });                                                                            // [C, >=fh, >=fw, O]
  backend.disposeData(xT.dataId);
  backend.disposeData(dyT.dataId);
  let cropped = conv;
  if (conv.shape[1] !== fh || conv.shape[2] !== fw) {
    cropped = run('Slice', backend, { x: conv }, { begin: [0, 0, 0, 0], size: [inC, fh, fw, outC] });
    backend.disposeData(conv.dataId);
  }
  const dW = run('Transpose', backend, { x: cropped }, { perm: [1, 2, 0, 3] }); // [fh, fw, C, O]
  backend.disposeData(cropped.dataId);
  return dW;
}

/**
 * dx = a forward conv of dy, zero-dilated by the stride, with the spatially flipped, in/out-swapped
 * filter and the complementary padding.
 */
function conv2DBackpropInput(args: { inputs: Record<string, Info>; backend: unknown; attrs?: unknown }): Info {
  const backend = args.backend as Backend;
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = args.attrs as Conv2DAttrs & { inputShape: [number, number, number, number] };
  checkNHWC(attrs, 'Conv2DBackpropInput');
  const [n, inH, inW, inC] = attrs.inputShape;
  const [fh, fw, , outC] = filter.shape as [number, number, number, number];
  const [sh, sw] = pair(attrs.strides);
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape, filter.shape as [number, number, number, number], [sh, sw], 1, attrs.pad, attrs.dimRoundingMode);
  const [, ho, wo] = dy.shape as [number, number, number, number];

  // Flipped filter with in/out swapped: Wf[a,b,o,c] = W[fh-1-a, fw-1-b, c, o]. The filter is small.
  const w = backend.readSync(filter.dataId) as Float32Array;
  const flipped = new Float32Array(w.length);
  for (let a = 0; a < fh; a++) for (let b = 0; b < fw; b++) {
    const src = ((fh - 1 - a) * fw + (fw - 1 - b)) * inC * outC;
    const dst = (a * fw + b) * outC * inC;
    for (let c = 0; c < inC; c++) for (let o = 0; o < outC; o++) flipped[dst + o * inC + c] = w[src + c * outC + o];
  }
  const wf = backend.makeOutput([fh, fw, outC, inC], 'float32', undefined, flipped);

  // Zero-dilate dy by the stride: [N,Ho,1,Wo,1,O] padded to [N,Ho,sh,Wo,sw,O], cut to (Ho-1)*s+1.
  let dyd = dy;
  const hd = (ho - 1) * sh + 1;
  const wd = (wo - 1) * sw + 1;
  if (sh > 1 || sw > 1) {
    const r = run('Reshape', backend, { x: dy }, { shape: [n, ho, 1, wo, 1, outC] });
    const p = run('PadV2', backend, { x: r }, {
      paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0,
    });
    backend.disposeData(r.dataId); // Reshape shares the data and takes a reference: give it back.
    const r2 = run('Reshape', backend, { x: p }, { shape: [n, ho * sh, wo * sw, outC] });
    backend.disposeData(p.dataId);
    dyd = run('Slice', backend, { x: r2 }, { begin: [0, 0, 0, 0], size: [n, hd, wd, outC] });
    backend.disposeData(r2.dataId);
  }
  const padTop = fh - 1 - info.padInfo.top;
  const padLeft = fw - 1 - info.padInfo.left;
  const padBottom = inH + fh - 1 - hd - padTop;
  const padRight = inW + fw - 1 - wd - padLeft;
  if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) {
    throw new Error(`Conv2DBackpropInput: unsupported padding ${JSON.stringify(info.padInfo)} for input ${attrs.inputShape}`);
  }
  const dx = run('Conv2D', backend, { x: dyd, filter: wf }, {
    strides: [1, 1], dilations: [1, 1], dataFormat: 'NHWC', dimRoundingMode: undefined,
    pad: [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]],
  });
  backend.disposeData(wf.dataId);
  if (dyd !== dy) backend.disposeData(dyd.dataId);
  return dx;
}

let registered = false;

/** Registers both kernels for the wasm backend (idempotent). Call before the first gradient. */
export function registerWasmConvGradients(): void {
  if (registered) return;
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
  if (tf.getKernel('Conv2DBackpropInput', 'wasm')) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter as tf.KernelFunc });
  tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2DBackpropInput as tf.KernelFunc });
  registered = true;
}
