"""Progress lines for long stages (train, evaluate): done/total, elapsed and ETA, in the pipeline's log format.

One line per logged step or finished task through `logging` (`HH:MM:SS tuneloop.<module> INFO ...`),
never a tqdm bar: CI logs keep every line, and a bar rewritten in place turns into noise there.

    >>> eta = Eta(total=58)
    >>> eta.update(10, elapsed=92.0)     # 10 of 58 done after 92 s
    >>> eta.line()
    '10/58 (17%), 1 min 32 s elapsed, ETA 7 min 22 s'
"""

from __future__ import annotations

import time


def duration(seconds: float | None) -> str:
    """A human duration: 42 s, 3 min 05 s, 1 h 02 min."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Eta:
    """Linear ETA from work done so far; `weights` lets uneven units (tasks of different sizes) count fairly."""

    def __init__(self, total: float, start: float | None = None, done: float = 0.0):
        self.total = total
        self.start = time.perf_counter() if start is None else start
        self.first_done = done  # work already done when timing started (a resumed run): not timed here
        self.done = done
        self.elapsed = 0.0

    def update(self, done: float, elapsed: float | None = None) -> None:
        self.done = done
        self.elapsed = time.perf_counter() - self.start if elapsed is None else elapsed

    @property
    def remaining(self) -> float | None:
        timed = self.done - self.first_done
        if timed <= 0 or self.total <= 0:
            return None
        return self.elapsed / timed * max(self.total - self.done, 0)

    def line(self, unit: str = "") -> str:
        pct = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        done = f"{self.done:g}" if isinstance(self.done, float) else str(self.done)
        total = f"{self.total:g}" if isinstance(self.total, float) else str(self.total)
        return f"{done}/{total}{unit}{pct}, {duration(self.elapsed)} elapsed, ETA {duration(self.remaining)}"


class TaskProgress:
    """Progress over the same tasks run for several models (evaluate): a task's time for the next model is
    predicted by its time for the first one (tasks differ 10x in cost; a count of tasks would mislead)."""

    def __init__(self, tasks: list[str], models: int, start: float | None = None):
        self.tasks, self.models = list(tasks), models
        self.start = time.perf_counter() if start is None else start
        self.times: dict[str, float] = {}
        self.finished = 0

    @property
    def total(self) -> int:
        return len(self.tasks) * self.models

    def done(self, task: str, seconds: float) -> str:
        """Record one finished (model, task); return 'k/n, elapsed, ETA'."""
        self.times.setdefault(task, seconds)
        self.finished += 1
        elapsed = time.perf_counter() - self.start
        position = self.finished % len(self.tasks) if self.tasks else 0  # tasks left for the current model
        left_now = self.tasks[position:] if position else []
        models_left = self.models - -(-self.finished // max(len(self.tasks), 1))
        known = list(self.times.values())
        mean = sum(known) / len(known) if known else 0.0

        def est(t: str) -> float:
            return self.times.get(t, mean)

        remaining = sum(est(t) for t in left_now) + models_left * sum(est(t) for t in self.tasks)
        return f"{self.finished}/{self.total}, {duration(elapsed)} elapsed, ETA {duration(remaining)}"
