"""The source language: recurrences and attention as sympy matrices, a zoo, a reference."""
