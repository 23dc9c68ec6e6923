from typing import List


def drop_path_rates(max_rate: float, num_blocks: int) -> List[float]:
    """Stochastic depth rates rising linearly from 0 to ``max_rate`` over all blocks."""
    if num_blocks <= 1:
        return [0.0] * num_blocks
    return [max_rate * i / (num_blocks - 1) for i in range(num_blocks)]
