"""The probe's models as recipes: one `ModelRecipe` per model name in `MODELS` (torch-free).

Every probe model is the same tagger (models.py: embedding, L residual blocks, readout); a
recipe says what differs, as fields, so no code compares model names:

- `mixer`: "core" (a class of tc0lab/probe/cores.py named by `core`, wrapped as
  Linear(core(x))), "attention" (causal softmax attention) or "recurrent" (the torch.nn class
  named by `core`: RNN, LSTM or GRU);
- `core_options`: fixed keyword arguments of the core (e.g. mamba-neg's negative decay), and
  `config_options`: ModelConfig fields handed to the core (deltanet's beta_max);
- `first_layer`: what the first layer's mixer reads, "stream" (LayerNorm of the residual
  stream) or "one-hot" (the tokens themselves, the core's width is vocab_size: ids4);
  `first_layer_init`: a function of cores.py that re-initialises the first layer's core
  (ssm-fnn's shift channels);
- `core_norm`: an RMSNorm between the core and its output Linear (ids4);
- `conv`: the model takes `conv_kernel`, the Mamba block's short causal convolution;
- `fnns`: "after" (x + MLP after the mixer, d -> mlp_ratio d -> d) or "around" (Nishikawa &
  Suzuki's token-wise FNNs before AND after the mixer, fnn_depth x fnn_width);
- `positions`: learned or sinusoidal positions are added to the embedding;
- `activations`: the shape of a layer's saved activations, for the memory estimate
  (limits.py): "attention", "diagonal" (d x N decays), "matrix" (an N x N transition per
  position) or "recurrent";
- `checker`: the zoo architecture (tc0lab/spec/zoo.py) whose verdict is the model's
  (tc0lab/check/predict.py): by default the model's own name; "" for a saturated gated
  recurrence without a zoo spec, whose verdict is cited (lstm, gru).

A new probe model is one entry here plus, if it needs one, its core in cores.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelRecipe:
    """What one probe model is, beyond the tagger every model shares (see the module docstring)."""

    name: str
    mixer: str                                  # "core" | "attention" | "recurrent"
    core: str = ""                              # cores.py class ("core"), torch.nn class ("recurrent")
    core_options: tuple[tuple[str, Any], ...] = ()
    config_options: tuple[str, ...] = ()
    first_layer: str = "stream"                 # "stream" | "one-hot"
    first_layer_init: str = ""                  # a function of cores.py, applied to layer 1's core
    core_norm: bool = False
    conv: bool = False
    fnns: str = "after"                         # "after" | "around"
    positions: bool = False
    activations: str = "recurrent"              # "attention" | "diagonal" | "matrix" | "recurrent"
    checker: str | None = None                  # zoo arch; None: the model's name; "": cited

    @property
    def checker_arch(self) -> str:
        """The zoo architecture whose verdict is this model's ("" when the verdict is cited)."""
        return self.name if self.checker is None else self.checker


_RECIPES = (
    ModelRecipe("transformer", "attention", positions=True, activations="attention"),
    ModelRecipe("mamba", "core", "MambaCore", conv=True, activations="diagonal"),
    ModelRecipe("mamba-neg", "core", "MambaCore", core_options=(("negative", True),), conv=True,
                activations="diagonal"),
    ModelRecipe("s4d", "core", "S4DCore", activations="diagonal"),
    ModelRecipe("ids4", "core", "IDS4Core", first_layer="one-hot", core_norm=True,
                activations="matrix"),
    ModelRecipe("deltanet", "core", "DeltaNetCore", config_options=("beta_max",),
                activations="matrix"),
    ModelRecipe("rnn", "recurrent", "RNN"),
    ModelRecipe("lstm", "recurrent", "LSTM", checker=""),
    ModelRecipe("gru", "recurrent", "GRU", checker=""),
    ModelRecipe("ssm-fnn", "core", "S4DCore", first_layer_init="shift_init", fnns="around",
                activations="diagonal"),
)

MODELS: dict[str, ModelRecipe] = {recipe.name: recipe for recipe in _RECIPES}
MODEL_NAMES: tuple[str, ...] = tuple(MODELS)


def recipe(name: str) -> ModelRecipe:
    """The recipe of a probe model; ValueError naming the known models otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODEL_NAMES)}") from None
