"""The studies: MACs vs measured latency (beyond_macs), backbone swaps side by side (swaps,
swap_runs, compare), timm pairs, the model table beside the papers' figures, the GPU proof
run."""
