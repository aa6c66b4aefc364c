"""bench.scale: its timing arithmetic, flags and evaluation section."""
from absl import app
import pytest

from bench import scale


def test_interval_rate_leaves_out_the_first_chunk_of_steps():
  # 50 steps in 5 s (tracing), then 150 steps in 3 s: 50 steps/s after it.
  output = ('step 50/200 | 10.0 steps/s | loss 1 | eval success -\n'
            'step 100/200 | 12.5 steps/s | loss 1 | eval success -\n'
            'step 200/200 | 25.0 steps/s | loss 1 | eval success 0.5\n')
  assert scale._interval_rate(output) == pytest.approx(50.0)


@pytest.mark.parametrize('argv, message', [
    (['--sections=replay,scaling'], r"unknown \['scaling'\]"),
    (['--sections=replay', '--readers=1,0'], 'positive counts'),
])
def test_bad_flags_are_refused(argv, message):
  with pytest.raises(app.UsageError, match=message):
    scale.main(argv)
