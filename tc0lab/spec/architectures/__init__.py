"""Published architectures, one module each: a `build(d, N)` returning the layer's mixer and an
`inits(d, N)` giving each parameter array's random draw(rng, shape), as `tc0lab.spec.zoo` expects."""
