"""A launcher for sweep tests that never trains: each submitted run's record is made up by
`record(spec)`, and runs finish in an order chosen by a seeded `rng` (the wave scheduler must
give the same cells whatever the order)."""
from __future__ import annotations

import dataclasses
import random

from tc0lab.probe.launch.jobs import Job


@dataclasses.dataclass
class ShuffledLauncher:
    needed: dict  # length -> layers needed to reach
    capacity: int
    rng: random.Random
    started: list = dataclasses.field(default_factory=list)
    cancelled: list = dataclasses.field(default_factory=list)
    name: str = "shuffled"

    def record(self, spec) -> dict:
        raise NotImplementedError

    def submit(self, specs, deadline):
        self.started += [spec.key for spec in specs]
        return [Job(spec, None, self.record(spec)) for spec in specs]

    def wait(self, jobs):
        job = self.rng.choice(jobs)
        job.finished = True
        return [job]

    def cancel(self, job):
        self.cancelled.append(job.spec.key)

    def close(self):
        pass
