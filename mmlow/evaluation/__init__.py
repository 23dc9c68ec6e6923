from .tracking import (box_iou_xywh, evaluate_result_dir, format_table, got10k_evaluate,
                       ope_evaluate, read_got10k_results, write_got10k_result)

__all__ = [
    'box_iou_xywh', 'evaluate_result_dir', 'format_table', 'got10k_evaluate', 'ope_evaluate',
    'read_got10k_results', 'write_got10k_result'
]
