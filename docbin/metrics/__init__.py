"""DIBCO evaluation metrics for a binary prediction against a ground truth (ink = 0, background = 255).

Pixel-count metrics (FM, recall, precision, PSNR, NRM, MCC), DRD (Lu et al. 2004) and the weighted
pseudo-F-measure of DIBCO 2013+ from recall/precision weight maps (Ntirogiannis et al., IEEE TIP 2013), which
docbin generates from the GT as the official BinEvalWeights tool does (or reads from its ``.dat`` files).
"""

from docbin.metrics.basic import Counts, binary_ink, confusion, evaluate, f_measure, mcc, nrm, psnr
from docbin.metrics.drd import drd
from docbin.metrics.means import mean_scores
from docbin.metrics.pseudo import pseudo_f_measure, read_weights_dat
from docbin.metrics.weights import pseudo_weights

__all__ = [
    "Counts", "binary_ink", "confusion", "drd", "evaluate", "f_measure", "mcc", "mean_scores", "nrm",
    "pseudo_f_measure", "pseudo_weights", "psnr", "read_weights_dat",
]
