r"""Recurrent networks written from their equations: the Elman RNN, the GRU and the LSTM.

Taught in the chapter *Recurrent networks* (``notebooks/10_rnn``); the seq2seq chapters build on it.

An Elman RNN (Elman 1990) reads a sequence :math:`x_1, \dots, x_L` one step at a time and
keeps a hidden state

.. math::

    h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}).

The cells below use the parameter names and layouts of ``torch.nn.RNNCell``, ``torch.nn.GRUCell``
and ``torch.nn.LSTMCell`` (gates stacked in the order r, z, n for the GRU and i, f, g, o for the
LSTM), so :meth:`RNN.load_torch` can copy a ``torch.nn.RNN``/``GRU``/``LSTM``'s weights and the tests
can check that the readable path (a Python loop over time) gives the same numbers as PyTorch's
fast path.

:func:`state_jacobian_norms` measures :math:`\lVert \partial h_L / \partial h_t \rVert` against the
distance :math:`L - t` -- the vanishing and exploding gradients of Bengio et al. (1994) and Pascanu
et al. (2013); :func:`input_jacobian_norms` measures :math:`\lVert \partial h_L / \partial x_t
\rVert` through every path, so that the plain, GRU and LSTM cells can be compared.

Shapes (batch-first): inputs ``(B, L, F)``, hidden states ``(B, D)``, outputs ``(B, L, D)`` or
``(B, L, 2D)`` for a bidirectional RNN.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = [
    "RNNCell",
    "GRUCell",
    "LSTMCell",
    "RNN",
    "unroll",
    "state_jacobian_norms",
    "input_jacobian_norms",
    "gradient_profile",
    "set_spectral_radius",
    "RecurrentClassifier",
]


def _check_input(x: Tensor, state: Tensor, input_size: int, hidden_size: int, who: str) -> None:
    if x.dim() != 2 or x.shape[1] != input_size:
        raise ValueError(f"{who} expects x of shape (B, {input_size}), got {tuple(x.shape)}")
    if state.shape != (x.shape[0], hidden_size):
        raise ValueError(
            f"{who} expects a state of shape (B, D) = ({x.shape[0]}, {hidden_size}), got "
            f"{tuple(state.shape)}"
        )


class _Cell(nn.Module):
    """Shared parameters: ``weight_ih (G*D, F)``, ``weight_hh (G*D, D)``, biases ``(G*D,)``."""

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        g = self.gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(g, input_size))
        self.weight_hh = nn.Parameter(torch.empty(g, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(g)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(g)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: every weight uniform in :math:`\\pm 1/\\sqrt{D}`."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def _affine(self, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        gi = x @ self.weight_ih.T  # (B, G*D)
        gh = h @ self.weight_hh.T  # (B, G*D)
        if self.bias_ih is not None:
            gi, gh = gi + self.bias_ih, gh + self.bias_hh
        return gi, gh

    def init_state(self, batch_size: int, like: Tensor):
        return like.new_zeros(batch_size, self.hidden_size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"


class RNNCell(_Cell):
    r"""The Elman cell: :math:`h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`.

    Args:
        input_size: F, the width of an input vector.
        hidden_size: D, the width of the hidden state (the book writes D for widths; H is kept for
            attention heads).
        bias: add the biases :math:`b_{ih}, b_{hh}`.

    Shapes:
        x ``(B, F)``, h ``(B, D)`` -> new h ``(B, D)``.
    """

    gates = 1

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        _check_input(x, h, self.input_size, self.hidden_size, repr(self))
        gi, gh = self._affine(x, h)
        return torch.tanh(gi + gh)


class GRUCell(_Cell):
    r"""The gated recurrent unit of Cho et al. (2014), as ``torch.nn.GRUCell`` computes it:

    .. math::

        r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
        z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
        n_t &= \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \\
        h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}

    The update gate :math:`z_t` lets the state pass through unchanged (:math:`z_t = 1`), which is
    what keeps gradients alive over long distances.

    Shapes:
        x ``(B, F)``, h ``(B, D)`` -> new h ``(B, D)``.
    """

    gates = 3

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        _check_input(x, h, self.input_size, self.hidden_size, repr(self))
        gi, gh = self._affine(x, h)
        i_r, i_z, i_n = gi.chunk(3, dim=1)  # each (B, D)
        h_r, h_z, h_n = gh.chunk(3, dim=1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h


class LSTMCell(_Cell):
    r"""The long short-term memory cell of Hochreiter & Schmidhuber (1997), with a forget gate:

    .. math::

        i_t, f_t, o_t &= \sigma(\cdot),\ \sigma(\cdot),\ \sigma(\cdot) \quad
            g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
        c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t &= o_t \odot \tanh(c_t)

    The cell state :math:`c_t` is updated additively, so :math:`\partial c_t / \partial c_{t-1} =
    \operatorname{diag}(f_t)` -- no weight matrix is multiplied in at every step.

    Shapes:
        x ``(B, F)``, state ``(h, c)`` each ``(B, D)`` -> new ``(h, c)``.
    """

    gates = 4

    def init_state(self, batch_size: int, like: Tensor):
        z = like.new_zeros(batch_size, self.hidden_size)
        return (z, z.clone())

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        if not isinstance(state, tuple) or len(state) != 2:
            raise TypeError("LSTMCell expects the state as a tuple (h, c)")
        h, c = state
        _check_input(x, h, self.input_size, self.hidden_size, repr(self))
        if c.shape != h.shape:
            raise ValueError(f"c must have the shape of h {tuple(h.shape)}, got {tuple(c.shape)}")
        gi, gh = self._affine(x, h)
        i, f, g, o = (gi + gh).chunk(4, dim=1)  # each (B, D)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


_CELLS = {"rnn": RNNCell, "gru": GRUCell, "lstm": LSTMCell}


def _hidden(state):
    return state[0] if isinstance(state, tuple) else state


def unroll(cell: _Cell, x: Tensor, state=None) -> tuple[Tensor, list]:
    """Run ``cell`` over the time axis of ``x``: the recurrence written as a Python loop.

    Args:
        cell: an :class:`RNNCell`, :class:`GRUCell` or :class:`LSTMCell`.
        x: inputs ``(B, L, F)``.
        state: the initial state (``(B, D)``, or ``(h, c)`` for the LSTM); zeros if None.

    Returns:
        ``(outputs, states)``: the hidden states ``h_1 .. h_L`` stacked ``(B, L, D)`` and the list
        of the L states (tuples for the LSTM), so that gradients with respect to any of them can be
        taken.
    """
    if x.dim() != 3:
        raise ValueError(f"unroll expects x of shape (B, L, F), got {tuple(x.shape)}")
    if state is None:
        state = cell.init_state(x.shape[0], x)
    states = []
    for t in range(x.shape[1]):
        state = cell(x[:, t], state)
        states.append(state)
    if not states:
        return x.new_zeros(x.shape[0], 0, cell.hidden_size), states
    return torch.stack([_hidden(s) for s in states], dim=1), states  # (B, L, D)


class RNN(nn.Module):
    """A one-layer, batch-first recurrent network over a sequence, uni- or bidirectional.

    The readable counterpart of ``torch.nn.RNN``/``GRU``/``LSTM(batch_first=True)`` with one layer:
    a loop over time (:func:`unroll`). The backward direction of a bidirectional RNN
    (Schuster & Paliwal 1997) reads the sequence reversed; its outputs are flipped back so
    that position t holds :math:`[\\overrightarrow{h}_t ; \\overleftarrow{h}_t]`.

    Args:
        input_size: F.
        hidden_size: D.
        cell: ``"rnn"`` (Elman, tanh), ``"gru"`` or ``"lstm"``.
        bidirectional: add a backward direction; outputs are then ``2D`` wide.

    Shapes:
        x ``(B, L, F)`` -> outputs ``(B, L, D * directions)``, last hidden ``(directions, B, D)``
        (the layout of ``torch.nn.RNN``'s ``h_n``; for the backward direction, the state after
        reading position 0).
    """

    def __init__(self, input_size: int, hidden_size: int, cell: str = "rnn", bidirectional: bool = False) -> None:
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {sorted(_CELLS)}")
        self.kind, self.bidirectional = cell, bidirectional
        self.input_size, self.hidden_size = input_size, hidden_size
        self.forward_cell = _CELLS[cell](input_size, hidden_size)
        self.backward_cell = _CELLS[cell](input_size, hidden_size) if bidirectional else None

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"{self!r} expects x of shape (B, L, {self.input_size}), got {tuple(x.shape)}")
        out, states = unroll(self.forward_cell, x)
        last = [_hidden(states[-1])] if states else [x.new_zeros(x.shape[0], self.hidden_size)]
        if self.backward_cell is not None:
            out_b, states_b = unroll(self.backward_cell, x.flip(1))
            out = torch.cat([out, out_b.flip(1)], dim=-1)  # (B, L, 2D)
            last.append(_hidden(states_b[-1]) if states_b else last[0])
        return out, torch.stack(last, dim=0)  # (directions, B, D)

    @torch.no_grad()
    def load_torch(self, module: nn.RNNBase) -> RNN:
        """Copy the weights of a one-layer ``torch.nn.RNN``/``GRU``/``LSTM`` of the same kind."""
        expected = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[self.kind]
        if not isinstance(module, expected):
            raise TypeError(f"{self!r} can copy a {expected.__name__}, got {type(module).__name__}")
        if module.num_layers != 1 or module.bidirectional != self.bidirectional:
            raise ValueError("the torch module must have one layer and the same bidirectionality")
        if (module.input_size, module.hidden_size) != (self.input_size, self.hidden_size):
            raise ValueError(
                f"sizes differ: torch module ({module.input_size}, {module.hidden_size}), "
                f"this RNN ({self.input_size}, {self.hidden_size})"
            )
        pairs = [(self.forward_cell, "")]
        if self.backward_cell is not None:
            pairs.append((self.backward_cell, "_reverse"))
        for cell, suffix in pairs:
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(module, f"{name}_l0{suffix}"))
        return self

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, cell={self.kind!r}, bidirectional={self.bidirectional}"


def state_jacobian_norms(cell: _Cell, x: Tensor, state=None) -> Tensor:
    r"""The Frobenius norms :math:`\lVert \partial h_L / \partial h_t \rVert_F` for t = 1 .. L.

    By the chain rule :math:`\partial h_L / \partial h_t = \prod_{k=t+1}^{L} \partial h_k / \partial
    h_{k-1}`; for the Elman cell each factor is :math:`\operatorname{diag}(1 - h_k^2)\, W_{hh}`, so
    the norm shrinks or grows roughly geometrically with the distance :math:`L - t`, at a rate set
    by the spectral radius of :math:`W_{hh}`. The Jacobian is computed row by row with autograd
    (D backward passes), so it works for any cell (for the LSTM it is the partial derivative with
    respect to :math:`h_t`, the cell state :math:`c_t` held fixed).

    Args:
        cell: a recurrent cell.
        x: inputs ``(B, L, F)``.
        state: the initial state; zeros if None.

    Returns:
        ``(B, L)``: entry ``[b, t]`` is the norm for example b and 0-based position t; the last
        entry (t = L - 1, distance 0) is :math:`\lVert I \rVert_F = \sqrt{D}`.
    """
    if x.dim() != 3:
        raise ValueError(f"state_jacobian_norms expects x of shape (B, L, F), got {tuple(x.shape)}")
    B, L, _ = x.shape
    if state is None:
        state = cell.init_state(B, x)
    # Unroll by hand, making every h_t a node we can differentiate with respect to.
    hs = []
    for t in range(L):
        state = cell(x[:, t], state)
        hs.append(_hidden(state))  # (B, D), a node of the graph
    h_last = hs[-1]
    sq = x.new_zeros(B, L)
    for i in range(cell.hidden_size):
        grads = torch.autograd.grad(h_last[:, i].sum(), hs, retain_graph=True, allow_unused=True)
        for t, g in enumerate(grads):
            if g is not None:
                sq[:, t] += (g**2).sum(-1)
    return sq.sqrt()


def input_jacobian_norms(rnn: nn.Module, x: Tensor) -> Tensor:
    r"""The Frobenius norms :math:`\lVert \partial h_L / \partial x_t \rVert_F` for t = 1 .. L.

    How strongly the last hidden state depends on the input seen :math:`L - t` steps earlier,
    through *every* path: for the LSTM this includes the cell state :math:`c_t` (which
    :func:`state_jacobian_norms` holds fixed), so the three cells can be compared on one scale.
    It is the size of the gradient that a loss on :math:`h_L` sends back to the input at distance
    :math:`L - t`, per unit of gradient on :math:`h_L`.

    Args:
        rnn: a one-layer, batch-first, unidirectional ``torch.nn.RNN``/``GRU``/``LSTM`` or an
            :class:`RNN` (its forward direction is used).
        x: inputs ``(B, L, F)``.

    Returns:
        ``(B, L)``: entry ``[b, t]`` is the norm for example b and 0-based position t (distance
        ``L - 1 - t``). Computed with D backward passes, one per unit of :math:`h_L`.
    """
    if x.dim() != 3:
        raise ValueError(f"input_jacobian_norms expects x of shape (B, L, F), got {tuple(x.shape)}")
    if isinstance(rnn, nn.RNNBase):
        if not rnn.batch_first or rnn.bidirectional or rnn.num_layers != 1:
            raise ValueError("expected a one-layer, batch-first, unidirectional torch RNN")
        hidden_size = rnn.hidden_size
    elif isinstance(rnn, RNN):
        hidden_size = rnn.hidden_size
    else:
        raise TypeError(f"expected a torch.nn.RNN/GRU/LSTM or an attnbook RNN, got {type(rnn).__name__}")
    x = x.detach().requires_grad_(True)
    out = rnn(x)[0]  # (B, L, D * directions)
    h_last = out[:, -1, :hidden_size]  # (B, D): the forward direction's last state
    sq = torch.zeros(x.shape[:2], dtype=x.dtype, device=x.device)
    for i in range(hidden_size):
        (g,) = torch.autograd.grad(h_last[:, i].sum(), x, retain_graph=i < hidden_size - 1)
        sq += (g**2).sum(-1)  # (B, L): examples are independent, so the sum separates them
    return sq.sqrt()


@torch.no_grad()
def set_spectral_radius(weight: Tensor, radius: float) -> Tensor:
    """Rescale a square matrix in place so that its spectral radius (largest |eigenvalue|) is
    ``radius``; returns it. Used to show vanishing (< 1) and exploding (> 1) gradients."""
    if weight.dim() != 2 or weight.shape[0] != weight.shape[1]:
        raise ValueError(f"expected a square matrix (D, D), got {tuple(weight.shape)}")
    rho = torch.linalg.eigvals(weight).abs().max().item()
    if rho == 0:
        raise ValueError("the matrix has spectral radius 0 and cannot be rescaled")
    return weight.mul_(radius / rho)


class RecurrentClassifier(nn.Module):
    """Embedding -> ``torch.nn.RNN``/``GRU``/``LSTM`` (the fast path) -> a linear read-out.

    With ``per_token=False`` the read-out sees the last hidden state (both directions' final
    states when bidirectional) and returns one prediction per sequence; with ``per_token=True`` it
    sees every position's output and tags each token.

    Args:
        vocab_size: number of input token ids.
        num_classes: number of output classes.
        cell: ``"rnn"``, ``"gru"`` or ``"lstm"``.
        embed_dim, hidden_size: widths.
        bidirectional: read the sequence in both directions.
        per_token: one prediction per position instead of per sequence.
        forget_bias: for the LSTM, the initial bias of the forget gate (in ``bias_hh``); a
            positive value (1 is the usual choice, Gers et al. 2000) starts the cell remembering.

    Shapes:
        tokens ``(B, L)`` int64 -> logits ``(B, num_classes)`` or ``(B, L, num_classes)``.
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        cell: str = "lstm",
        embed_dim: int = 16,
        hidden_size: int = 32,
        bidirectional: bool = False,
        per_token: bool = False,
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__()
        kinds = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
        if cell not in kinds:
            raise ValueError(f"unknown cell {cell!r}; choose one of {sorted(kinds)}")
        self.cell, self.per_token = cell, per_token
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = kinds[cell](embed_dim, hidden_size, batch_first=True, bidirectional=bidirectional)
        self.out = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)
        if cell == "lstm":
            with torch.no_grad():
                for name, p in self.rnn.named_parameters():
                    if name.startswith("bias_hh"):
                        p[hidden_size : 2 * hidden_size].fill_(forget_bias)  # gates i, f, g, o

    def forward(self, tokens: Tensor) -> Tensor:
        if tokens.dim() != 2:
            raise ValueError(f"expected tokens of shape (B, L), got {tuple(tokens.shape)}")
        outputs, state = self.rnn(self.embed(tokens))  # outputs (B, L, D * directions)
        if self.per_token:
            return self.out(outputs)  # (B, L, C)
        h_n = state[0] if isinstance(state, tuple) else state  # (directions, B, D)
        last = torch.cat(list(h_n), dim=-1)  # (B, D * directions)
        return self.out(last)  # (B, C)


# ----------------------------------------------------------------------------------------------
# A bidirectional GRU over padded batches (moved from attnbook.han)

__all__ += ["reverse_padded", "BiGRUEncoder"]


def reverse_padded(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse the first ``lengths[b]`` positions of each row of ``x (B, L, ...)``; padding stays
    at the end: ``[a, b, c, pad] -> [c, b, a, pad]``. Its own inverse."""
    b, length = x.shape[:2]
    pos = torch.arange(length, device=x.device).unsqueeze(0)  # (1, L)
    idx = torch.where(pos < lengths.unsqueeze(1), lengths.unsqueeze(1) - 1 - pos, pos)  # (B, L)
    idx = idx.view(b, length, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, idx)


class BiGRUEncoder(nn.Module):
    """A bidirectional GRU that reads only the real positions of each sequence (the encoder of
    :mod:`attnbook.han`'s classifiers, chapter *Attention for classification and the HAN*).

    Two one-directional ``torch.nn.GRU``: the forward one reads the padded batch as it is (padding
    sits at the end of each row, so it never reaches a real position's state); the backward one
    reads each row reversed *within its length* (:func:`reverse_padded`), so it also starts at a
    real word. This gives the same numbers as a packed bidirectional GRU (tested) and is several
    times faster on a CPU, where packed sequences are processed step by step.

    Args:
        input_dim: F, width of an input vector.
        hidden_size: H per direction; the states are ``2H`` wide.
        buckets: sort the rows by length and run them in this many groups, each padded only to
            its own longest row (a speed-up for batches of very different lengths, such as all
            the sentences of a batch of documents; the numbers do not change).

    Shapes:
        x ``(B, L, F)``, mask ``(B, L)`` (``True`` at real positions, a prefix of each row) ->
        ``(states (B, L, 2H), final (B, 2H))``: ``states[b, t] = [forward; backward]`` state at
        position t, zero at padded positions; ``final`` = [forward state at the last real position;
        backward state at the first], zero for a row without real positions.
    """

    def __init__(self, input_dim: int, hidden_size: int, buckets: int = 1) -> None:
        super().__init__()
        self.input_dim, self.hidden_size, self.buckets = input_dim, hidden_size, buckets
        self.forward_rnn = nn.GRU(input_dim, hidden_size, batch_first=True)
        self.backward_rnn = nn.GRU(input_dim, hidden_size, batch_first=True)

    def load_torch(self, module: nn.GRU) -> BiGRUEncoder:
        """Copy the weights of a one-layer bidirectional ``torch.nn.GRU`` (for the tests)."""
        if not (module.bidirectional and module.num_layers == 1 and module.batch_first):
            raise ValueError("expected a one-layer, batch-first, bidirectional torch.nn.GRU")
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(self.forward_rnn, f"{name}_l0").copy_(getattr(module, f"{name}_l0"))
                getattr(self.backward_rnn, f"{name}_l0").copy_(getattr(module, f"{name}_l0_reverse"))
        return self

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        if x.dim() != 3 or x.shape[-1] != self.input_dim:
            raise ValueError(f"{self!r} expects x of shape (B, L, {self.input_dim}), got {tuple(x.shape)}")
        if mask.shape != x.shape[:2]:
            raise ValueError(f"{self!r} expects a mask of shape (B, L) = {tuple(x.shape[:2])}, got "
                             f"{tuple(mask.shape)}")
        b, length, _ = x.shape
        if self.buckets <= 1 or b < 2 * self.buckets:
            return self._run(x, mask)
        # Sort the rows by length and cut them into buckets, each trimmed to its own longest row:
        # the GRUs then spend little time on padding. Same numbers as one call (tested).
        lengths = mask.sum(-1)  # (B,)
        order = lengths.argsort()
        states = x.new_zeros(b, length, 2 * self.hidden_size)
        final = x.new_zeros(b, 2 * self.hidden_size)
        for rows in order.chunk(self.buckets):
            n = int(lengths[rows].max())
            if n == 0:
                continue
            s, f = self._run(x[rows, :n], mask[rows, :n])
            states = states.index_copy(0, rows, nn.functional.pad(s, (0, 0, 0, length - n)))
            final = final.index_copy(0, rows, f)
        return states, final

    def _run(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        b = x.shape[0]
        lengths = mask.sum(-1)  # (B,)
        fwd, _ = self.forward_rnn(x)  # (B, L, H): padding only follows the real positions
        bwd, _ = self.backward_rnn(reverse_padded(x, lengths))  # (B, L, H), reversed order
        bwd = reverse_padded(bwd, lengths)  # back to reading order
        states = torch.cat([fwd, bwd], dim=-1) * mask.unsqueeze(-1)  # (B, L, 2H), 0 at padding
        last = (lengths - 1).clamp(min=0)  # (B,)
        rows = torch.arange(b, device=x.device)
        final = torch.cat([fwd[rows, last], bwd[:, 0]], dim=-1)  # (B, 2H)
        final = final * (lengths > 0).unsqueeze(-1)
        return states, final

    def extra_repr(self) -> str:
        return f"{self.input_dim}, {self.hidden_size}, bidirectional=True, buckets={self.buckets}"


def gradient_profile(model: RecurrentClassifier, tokens: Tensor) -> Tensor:
    r"""The gradient over distance of a unidirectional :class:`RecurrentClassifier`: the median over
    the sequences of :math:`\lVert \partial h_L / \partial x_t \rVert_F` (:func:`input_jacobian_norms`,
    every path, on the embedded ``tokens``), indexed by the distance :math:`L - t`.

    Args:
        model: the classifier (its ``embed`` and its one-layer ``rnn`` are used).
        tokens: ``(B, L)`` token ids.

    Returns:
        ``(L,)`` on the CPU: entry ``d`` is the median norm at distance ``d`` (0 = the last input).
        The median, not the mean: one sequence with an exploding gradient would dominate a mean.
    """
    if tokens.dim() != 2:
        raise ValueError(f"gradient_profile expects tokens of shape (B, L), got {tuple(tokens.shape)}")
    norms = input_jacobian_norms(model.rnn, model.embed(tokens).detach())  # (B, L)
    return norms.median(0).values.flip(0).cpu()  # [d] = distance d


# ----------------------------------------------------------------------------------------------
# A GRU classifier over padded batches (chapter *Convolutional networks for text*)

__all__ += ["PackedGRUClassifier"]


class PackedGRUClassifier(nn.Module):
    """Embedding -> a one-directional ``torch.nn.GRU`` over packed sequences (the padding is never
    read) -> the state after each sequence's last token -> linear. The recurrent baseline of the
    character CNN in ``notebooks/30_text_cnn`` (surnames), trained by
    :func:`attnbook.classify.fit_classifier`.

    Args:
        vocab_size: number of token ids (``pad_id`` gets a zero embedding).
        num_classes: C.
        embed_dim, hidden_size: widths.
        pad_id: the padding id.

    Shapes:
        tokens ``(B, L)`` int64, mask ``(B, L)`` bool (``True`` at the real tokens, a prefix of
        each row) -> logits ``(B, C)``; an empty row reads its first (padding) token.
    """

    def __init__(self, vocab_size: int, num_classes: int, embed_dim: int = 32,
                 hidden_size: int = 128, pad_id: int = 0) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.gru = nn.GRU(embed_dim, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, num_classes)

    def forward(self, tokens: Tensor, mask: Tensor) -> Tensor:
        if tokens.dim() != 2 or mask.shape != tokens.shape:
            raise ValueError(f"expected tokens and mask of shape (B, L), got {tuple(tokens.shape)} "
                             f"and {tuple(mask.shape)}")
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(self.embed(tokens), lengths, batch_first=True,
                                                   enforce_sorted=False)
        _, h = self.gru(packed)  # h (1, B, H): the state after each sequence's last token
        return self.out(h[-1])  # (B, C)
