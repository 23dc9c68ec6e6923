import pytest

from mmlow.reports.model_table import PAPER, model_table


def test_model_table_counts_beside_paper_figures():
    header, rule, *rows = model_table(['efficientvit'], (256, 256))
    assert header.startswith('| model | params (M) | GMACs@224 | GMACs@256x256 | paper params')
    assert rule.count('---') == 8 and len(rows) == len(PAPER['efficientvit'])
    cells = {row.split(' | ')[0][2:]: row.split(' | ') for row in rows}
    for arch, paper in PAPER['efficientvit'].items():
        ours, published = cells[f'efficientvit_{arch}'][1], cells[f'efficientvit_{arch}'][4]
        assert float(published) == paper['params_m']
        # the official README rounds (m5: 12.47M is listed as 12.4M)
        assert float(ours) == pytest.approx(paper['params_m'], abs=0.08)
    m4 = cells['efficientvit_m4']
    assert float(m4[3]) > float(m4[2]) > 0  # more MACs at 256 than at 224
