"""Published recurrent architectures, one family per module, each written from its paper.

Every module holds builders `name -> builder(d, N) -> Mixer` in `BUILDERS` and parameter
draws `name -> inits(d, N)` in `INITS`; `tc0lab.spec.zoo` registers them. Each builder's
docstring cites the paper and says where tc0lab's form departs from the published one (e.g.
a normaliser that only rescales the output). Gate ranges are the published ones: they are
what the checker's verdicts are about.
"""
