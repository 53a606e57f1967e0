#!/usr/bin/env python3
"""The PyTorch anchor of `npm run bench` (bench/bench.ts).

Builds the SAME networks as server/engine/network.ts (from the preset's network config, passed in the
JSON config) and measures, on the CPU with a fixed number of threads:
  - DSM training steps/s (per-example sigma from the ladder, Adam, global-norm gradient clipping),
  - sampling evaluations/s (one Langevin step x + alpha * net(x)/sigma + sqrt(2 alpha) z),
  - peak RSS of this process.

Usage: python3 bench/torch_ref.py '<json config>'   (bench.ts writes the config)
Prints one JSON line with the result on stdout.
"""
import json
import math
import platform
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class UNet(nn.Module):
    """network.ts's buildUNet: root 3x3 conv (linear); per level `blocks` 3x3 conv + SiLU, the output
    kept as a skip, then a stride-2 3x3 conv (linear); `blocks` middle convs + SiLU; per level of the
    decoder nearest x2 upsampling, concat [x, skip], `blocks` convs + SiLU; a 1x1 linear head.
    The parameters come in the same order and shapes as the TF.js model's weights (HWIO there, OIHW here).
    Stride-2 convs use padding=1: TF's 'same' pads 0 before and 1 after on even sizes instead, with the
    same output shape and cost, so the timing is that of the same network."""

    def __init__(self, channels, base, mults, blocks):
        super().__init__()
        self.root = nn.Conv2d(channels, base, 3, padding=1)
        # One entry per level, so the parameters come in network.ts's layer order.
        self.down = nn.ModuleList()
        ch = base
        skip_ch = []
        for m in mults:
            convs = nn.ModuleList()
            for _ in range(blocks):
                convs.append(nn.Conv2d(ch, base * m, 3, padding=1))
                ch = base * m
            skip_ch.append(ch)
            self.down.append(nn.ModuleDict({'convs': convs, 'stride2': nn.Conv2d(ch, ch, 3, stride=2, padding=1)}))
        deepest = base * mults[-1]
        self.mid = nn.ModuleList()
        for _ in range(blocks):
            self.mid.append(nn.Conv2d(ch, deepest, 3, padding=1))
            ch = deepest
        self.up = nn.ModuleList()
        for level in reversed(range(len(mults))):
            convs = nn.ModuleList()
            ch = ch + skip_ch[level]
            for _ in range(blocks):
                convs.append(nn.Conv2d(ch, base * mults[level], 3, padding=1))
                ch = base * mults[level]
            self.up.append(convs)
        self.head = nn.Conv2d(ch, channels, 1)

    def forward(self, x):
        x = self.root(x)
        skips = []
        for level in self.down:
            for c in level['convs']:
                x = F.silu(c(x))
            skips.append(x)
            x = level['stride2'](x)
        for c in self.mid:
            x = F.silu(c(x))
        for convs, skip in zip(self.up, reversed(skips)):
            x = F.interpolate(x, scale_factor=2, mode='nearest')
            x = torch.cat([x, skip], dim=1)
            for c in convs:
                x = F.silu(c(x))
        return self.head(x)


class Mlp(nn.Module):
    """network.ts's buildMlp: input [x, log sigma] (d + 1), dense + SiLU per hidden layer, linear head to d."""

    def __init__(self, d, hidden):
        super().__init__()
        layers = []
        prev = d + 1
        for units in hidden:
            layers.append(nn.Linear(prev, units))
            layers.append(nn.SiLU())
            prev = units
        layers.append(nn.Linear(prev, d))
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x)


def build(cfg):
    net = cfg['network']
    shape = cfg['shape']
    if net['kind'] == 'unet':
        h, w, c = shape
        return UNet(c, net['base'], net['mults'], net['blocks']), [c, h, w], False
    if net['kind'] == 'mlp':
        return Mlp(shape[0], net['hidden']), [shape[0]], True
    raise SystemExit('torch_ref.py: unknown network kind %r' % net['kind'])


def stats(rates):
    s = sorted(rates)
    return {'min': s[0], 'median': s[len(s) // 2], 'max': s[-1], 'runs': rates}


def over_time(t0, done, target_s, min_steps):
    """A repeat stops early past 2x its target time (the warm-up estimate can be far off on a busy machine)."""
    return done >= min_steps and time.perf_counter() - t0 > 2 * target_s


def repeat_count(estimate_s, target_s, lo, hi):
    if estimate_s <= 0:
        return hi
    return max(lo, min(hi, int(round(target_s / estimate_s))))


def main():
    if len(sys.argv) < 2:
        raise SystemExit("usage: torch_ref.py '<json config>'")
    cfg = json.loads(sys.argv[1])
    threads = int(cfg.get('threads', 2))
    torch.set_num_threads(threads)
    torch.manual_seed(cfg.get('seed', 0))

    model, ex_shape, conditional = build(cfg)
    params = sum(p.numel() for p in model.parameters())
    batch = cfg['batch']
    sigmas = torch.tensor(cfg['sigmas'], dtype=torch.float32)
    L = sigmas.numel()
    clip = cfg['clip']
    # Adam with TF.js's defaults (beta 0.9/0.999, epsilon 1e-7) at the bench's learning rate.
    opt = torch.optim.Adam(model.parameters(), lr=cfg['learningRate'], betas=(0.9, 0.999), eps=1e-7)
    pool = torch.rand([cfg.get('pool', 256)] + ex_shape)
    view = [batch] + [1] * len(ex_shape)

    def net_out(x, sig):
        if conditional:
            x = torch.cat([x, sig.log().reshape(-1, 1)], dim=1)
        return model(x)

    def train_step():
        idx = torch.randint(0, pool.shape[0], (batch,))
        x = pool[idx]
        sig = sigmas[torch.randint(0, L, (batch,))]
        z = torch.randn_like(x)
        noisy = x + z * sig.reshape(view)
        per_ex = 0.5 * (net_out(noisy, sig) + z).square().reshape(batch, -1).sum(1)
        loss = per_ex.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        return loss.item(), float(norm)

    # ---- training ----
    model.train()
    t_est = 0.0
    for _ in range(cfg['warmup']):
        t0 = time.perf_counter()
        lv, _ = train_step()
        t_est = time.perf_counter() - t0
    if not math.isfinite(lv):
        raise SystemExit('torch_ref.py: the loss is not finite during warm-up')
    n_train = repeat_count(t_est, cfg['trainSeconds'], cfg['minSteps'], cfg['maxSteps'])
    train_rates, train_counts = [], []
    for _ in range(cfg['repeats']):
        t0 = time.perf_counter()
        n = 0
        while n < n_train:
            lv, _ = train_step()
            n += 1
            if over_time(t0, n, cfg['trainSeconds'], cfg['minSteps']):
                break
        train_rates.append(n / (time.perf_counter() - t0))
        train_counts.append(n)

    # ---- sampling: one Langevin step at a fixed level ----
    model.eval()
    sigma = float(cfg['sampleSigma'])
    alpha = float(cfg['sampleAlpha'])
    noise_scale = math.sqrt(2 * alpha)
    sig_b = torch.full((batch,), sigma)

    def langevin(x):
        score = net_out(x, sig_b) / sigma
        return x + alpha * score + noise_scale * torch.randn_like(x)

    with torch.no_grad():
        x = torch.randn([batch] + ex_shape) * sigma
        for _ in range(cfg['warmup']):
            t0 = time.perf_counter()
            x = langevin(x)
            t_est = time.perf_counter() - t0
        n_eval = repeat_count(t_est, cfg['sampleSeconds'], cfg['minSteps'], cfg['maxSteps'])
        eval_rates, eval_counts = [], []
        for _ in range(cfg['repeats']):
            x = torch.randn([batch] + ex_shape) * sigma
            t0 = time.perf_counter()
            n = 0
            while n < n_eval:
                x = langevin(x)
                n += 1
                if over_time(t0, n, cfg['sampleSeconds'], cfg['minSteps']):
                    break
            float(x[0].sum())
            eval_rates.append(n / (time.perf_counter() - t0))
            eval_counts.append(n)

    # ---- a full sampling run (annealed Langevin over the whole ladder, then denoising), when asked ----
    full = None
    fs_cfg = cfg.get('fullSampling')
    if fs_cfg:
        n = int(fs_cfg['n'])
        levels = [float(v) for v in fs_cfg['sigmas']]
        alphas = [float(v) for v in fs_cfg['alphas']]
        T = int(fs_cfg['stepsPerLevel'])
        with torch.no_grad():
            t0 = time.perf_counter()
            x = torch.randn([n] + ex_shape) * levels[0]
            for sg, al in zip(levels, alphas):
                sb = torch.full((n,), sg)
                for _ in range(T):
                    x = x + al * net_out(x, sb) / sg + math.sqrt(2 * al) * torch.randn_like(x)
            sl = levels[-1]
            x = x + sl * sl * net_out(x, torch.full((n,), sl)) / sl
            float(x[0].sum())
            full = {'seconds': time.perf_counter() - t0, 'evaluations': len(levels) * T + 1}

    out = {
        'side': 'torch',
        'name': cfg['name'],
        'params': params,
        'threads': torch.get_num_threads(),
        'torchVersion': torch.__version__,
        'python': platform.python_version(),
        'trainStepsPerRepeat': train_counts,
        'evalsPerRepeat': eval_counts,
        'train': stats(train_rates),
        'sample': stats(eval_rates),
        # ru_maxrss is in KB on Linux.
        'peakRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        'finalLoss': lv,
    }
    if full is not None:
        out['fullSampling'] = full
    print(json.dumps(out), flush=True)


if __name__ == '__main__':
    main()
