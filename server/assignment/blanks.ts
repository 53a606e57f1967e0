/**
 * The assignment's blanks: what each must do, in the order the checks run. The ids are the function
 * names in the student module (assignment/template/scoreModel.ts) and in highscore-assignment.json.
 * `annealedLangevin` is not a blank but the integration check of the provided sampler that calls the
 * sampling blanks with the exact score of a known Gaussian mixture.
 */
export interface BlankInfo {
  id: string;
  title: string;
  /** What the function must do, for hovers. */
  description: string;
  /** The hint used where the file's own `notImplemented(...)` call has none. */
  hint: string;
  group: 'sampling' | 'training' | 'network' | 'schedule' | 'integration';
  /** Blanks this check needs (the integration check). */
  needs?: string[];
}

export const BLANKS: readonly BlankInfo[] = [
  { id: 'initialSamples', group: 'sampling', title: 'Initial samples',
    description: 'Return n samples of shape `shape` as a tensor [n, ...shape] of independent normal values with mean 0 and standard deviation sigma_1 (the largest noise level), seeded by `seed`.',
    hint: "tf.randomNormal([n, ...shape], 0, sigma1, 'float32', seed)" },
  { id: 'stepSize', group: 'sampling', title: 'Langevin step size per level',
    description: "Return the Improved paper's step size alpha_i = eps * sigma_i^2 / sigma_L^2 (not NCSN's alpha/2 convention).",
    hint: 'alpha_i = eps * sigma_i^2 / sigma_L^2' },
  { id: 'langevinStep', group: 'sampling', title: 'One Langevin step',
    description: 'Return x + alpha * s(x, sigma) + sqrt(2 alpha) * z, where the score s(x, sigma) is the network output divided by sigma, net(x, sigma) / sigma, and z is the standard normal noise passed in.',
    hint: 'score = net(x, sigma) / sigma; x + alpha * score + sqrt(2 * alpha) * z' },
  { id: 'denoise', group: 'sampling', title: 'Final denoising step',
    description: "Return x + sigma_L^2 * s(x, sigma_L) = x + sigma_L * net(x, sigma_L) (Tweedie's formula). NCSNv2's CIFAR-10 FID is 31.75 without it and 10.87 with it.",
    hint: 'x + sigma_L * net(x, sigma_L)' },
  { id: 'dsmLoss', group: 'training', title: 'Denoising score matching loss',
    description: 'Return the per-example losses [B]: with x~ = x + sigma z, 0.5 * || net(x~, sigma) + z ||^2 (lambda(sigma) = sigma^2 weighting), summed over each example\'s values. Use tf ops only, so that it stays differentiable.',
    hint: '0.5 * sum((net(x + sigma z, sigmas) + z)^2) per example' },
  { id: 'decoderSkips', group: 'network', title: "The U-Net's skip wiring",
    description: "Given the encoder's per-level outputs (finest level first), return the skips in the order the decoder consumes them: the decoder starts at the coarsest level, so the encoder outputs reversed. Do not modify the input array.",
    hint: '[...encoderOutputs].reverse()' },
  { id: 'geometricSchedule', group: 'schedule', title: 'Geometric noise schedule',
    description: 'Return L noise levels sigma_1 > ... > sigma_L from sigma1 down to sigmaL with a constant ratio: sigma_i = sigma1 * (sigmaL / sigma1)^(i / (L - 1)), i = 0..L-1.',
    hint: 'sigma1 * (sigmaL / sigma1)^(i / (L - 1))' },
  { id: 'sigmaMaxFromData', group: 'schedule', title: 'Technique 1: sigma_1 from the data',
    description: 'Return the largest Euclidean distance between any two rows of the data [N, D] (NCSNv2 technique 1), as a number.',
    hint: 'max over pairs of ||x_i - x_j||' },
  { id: 'gammaFromOverlap', group: 'schedule', title: 'Technique 2: the ratio gamma',
    description: 'Return the gamma > 1 for which Phi(sqrt(2D)(gamma - 1) + 3 gamma) - Phi(sqrt(2D)(gamma - 1) - 3 gamma) = 0.5 (D = 784 gives about 1.082).',
    hint: 'bisection on gamma with normalCdf' },
  { id: 'numLevels', group: 'schedule', title: 'Technique 2: the number of levels',
    description: 'Return the smallest L for which a geometric ladder from sigma1 to sigmaL has ratio at most gamma: L = ceil(log(sigma1 / sigmaL) / log(gamma)) + 1.',
    hint: 'ceil(log(sigma1 / sigmaL) / log(gamma)) + 1' },
  { id: 'stepObjective', group: 'schedule', title: "Technique 4: the step size's objective",
    description: 'Return (1 - eps/sL^2)^(2T) * (gamma^2 - 2 eps / (sL^2 - sL^2 (1 - eps/sL^2)^2)) + 2 eps / (sL^2 - sL^2 (1 - eps/sL^2)^2).',
    hint: 'note the exponent 2T and gamma squared' },
  { id: 'chooseEps', group: 'schedule', title: 'Technique 4: choosing eps',
    description: 'Return the eps in (0, sigma_L^2) whose stepObjective is closest to 1 (CIFAR-10: sigma_1 = 50, L = 232, sigma_L = 0.01, T = 5 gives about 6.2e-6).',
    hint: 'log-scale scan in (0, sigma_L^2), then refine' },
  { id: 'annealedLangevin', group: 'integration', title: 'Integration: your sampler on a known mixture',
    description: "The provided sampler, calling your initialSamples, stepSize, langevinStep and denoise, driven by the exact score of NCSN's mixture 0.8 N((5,5), I) + 0.2 N((-5,-5), I), must recover its mode weights and moments.",
    hint: 'passes once the sampling blanks pass', needs: ['initialSamples', 'stepSize', 'langevinStep', 'denoise'] },
];

export const BLANK_IDS: readonly string[] = BLANKS.map((b) => b.id);

export function blankInfo(id: string): BlankInfo | undefined {
  return BLANKS.find((b) => b.id === id);
}
