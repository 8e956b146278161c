"""Equation network -> ``torch.nn.Module`` whose parameters carry the spec's weight and bias names."""
from __future__ import annotations

from ..extras import need
from ..kinds import resolve
from .activations import ACTIVATIONS
from .forward_pass import with_activation


def identity(x):
    return x


def build(spec, activation: str | None = None, dtype=None):
    """A module mapping a (batch, inputs) tensor, columns in ``spec.network().inputs`` order, to
    (batch, outputs). Parameters start at the spec's values; missing ones are drawn from U(-0.5, 0.5)."""
    torch = need("torch")

    net = with_activation(spec.network(), activation)
    given = spec.declared()["values"]
    dtype = dtype or torch.float64

    class EquationNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            gen = torch.Generator().manual_seed(0)
            for name in net.weights + net.biases:
                value = given.get(name)
                data = (torch.tensor(float(value), dtype=dtype) if value is not None
                        else torch.rand((), generator=gen, dtype=dtype) - 0.5)
                self.register_parameter(name, torch.nn.Parameter(data))
            self.inputs, self.outputs = list(net.inputs), list(net.outputs)
            self._fns = {a: resolve(ACTIVATIONS[a].torch) for a in {n.attrs["activation"] for n in net.neurons}}

        def forward(self, x):
            a = {name: x[..., i] for i, name in enumerate(self.inputs)}
            for node in net.neurons:
                z = sum(getattr(self, e.weight) * a[e.src] for e in node.inputs)
                if node.attrs.get("bias"):
                    z = z + getattr(self, node.attrs["bias"])
                a[node.id] = self._fns[node.attrs["activation"]](z)
            return torch.stack([a[o] for o in self.outputs], dim=-1)

        def extra_repr(self) -> str:
            return f"inputs={self.inputs}, outputs={self.outputs}, units={len(net.neurons)}"

    return EquationNet()
