"""The trained retriever beside two baselines on the same test split
(tools/analysis/retrieval_baselines.py)."""
from typing import Dict, Optional

from mmlow.apis.retrieval import build_retriever, evaluate_retriever
from mmlow.config import load_config


def retrieval_baselines(config: str, checkpoint: str, seed: int = 0,
                        cfg_options: Optional[dict] = None) -> Dict[str, Dict[str, float]]:
    """The trained model against two baselines on the same test split: nearest neighbours on
    raw pixels (the preprocessed, normalised input image flattened) and the same network
    untrained (its random initialisation for ``seed``)."""
    cfg = load_config(config, cfg_options)
    trained = build_retriever(cfg, checkpoint)
    untrained = build_retriever(cfg, None, seed)
    return {
        'raw pixels': evaluate_retriever(trained, cfg, features=lambda x: x.flatten(1)),
        'untrained network': evaluate_retriever(untrained, cfg),
        'trained network': evaluate_retriever(trained, cfg),
    }


def metrics_table(rows: Dict[str, Dict[str, float]]) -> str:
    names = list(next(iter(rows.values())))
    lines = ['| method | ' + ' | '.join(names) + ' |', '|---' * (len(names) + 1) + '|']
    lines += [f'| {method} | ' + ' | '.join(f'{values[n]:.4f}' for n in names) + ' |'
              for method, values in rows.items()]
    return '\n'.join(lines)
