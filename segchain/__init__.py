"""segchain: segment-driven supply-chain decisions from ERP order exports."""

__version__ = "0.1.0"
