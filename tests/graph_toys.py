"""The toy graph and helpers shared by the graph tests (test_gat, test_gcn, test_ensemble, test_graph_train)."""

import warnings

import torch

# toy graph: 0 <-> 1, 1 <-> 2, 2 <-> 3, 3 -> 0; node 4 has no neighbours
EDGES = torch.tensor([[0, 1, 1, 2, 2, 3, 3], [1, 0, 2, 1, 3, 2, 0]])
N, FIN = 5, 6


def features() -> torch.Tensor:
    """Node features ``(N, FIN)``, the same on every call."""
    return torch.randn(N, FIN, generator=torch.Generator().manual_seed(0))


def pyg():
    """Import PyG's layers, silencing the DeprecationWarning its import emits on this torch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import torch_geometric.nn as pygnn
    return pygnn


def two_communities():
    """Two cliques of 10 nodes with informative features; (x (20, 5), edge_index, y, masks),
    masks = (train: 1 node per clique, val: 2 per clique, test: the rest)."""
    g = torch.Generator().manual_seed(0)
    n = 20
    y = torch.arange(n) // 10
    blocks = [(i, j) for i in range(n) for j in range(n) if i != j and i // 10 == j // 10]
    ei = torch.tensor(blocks).T
    x = torch.nn.functional.one_hot(y, 2).float() + 0.1 * torch.rand(n, 2, generator=g)
    x = torch.cat([x, torch.zeros(n, 3)], 1)
    masks = [torch.zeros(n, dtype=torch.bool) for _ in range(3)]
    masks[0][[0, 10]] = True
    masks[1][[1, 2, 11, 12]] = True
    masks[2][3:10] = True
    masks[2][13:] = True
    return x, ei, y, masks
