from .retrieval import (RECALL_KS, RetrievalMetric, count_relevant, evaluate_embeddings,
                        label_histogram, per_query_metrics, search_depth, summarise)
from .search import cosine_topk
from .tracking import (box_iou_xywh, evaluate_result_dir, format_table, got10k_evaluate,
                       ope_evaluate, read_got10k_results, write_got10k_result)

__all__ = [
    'RECALL_KS', 'RetrievalMetric', 'box_iou_xywh', 'cosine_topk', 'count_relevant',
    'evaluate_embeddings', 'evaluate_result_dir', 'format_table', 'got10k_evaluate',
    'label_histogram', 'ope_evaluate', 'per_query_metrics', 'read_got10k_results',
    'search_depth', 'summarise', 'write_got10k_result'
]
