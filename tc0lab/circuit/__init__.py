"""The circuit IR: arithmetic gates in an nx.DiGraph, their cost model, measurement, evaluation, export."""
