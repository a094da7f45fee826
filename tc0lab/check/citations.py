"""The references behind every verdict, spelled once."""

ILLUSION = "Merrill, Petty & Sabharwal, The Illusion of State in State-Space Models, ICML 2024 (arXiv 2404.08819)"
FIXED = f"{ILLUSION}, Thm 4.2 / Cor 4.3 (matrix powering: Mereghetti & Palano 2000)"
DIAGONAL = f"{ILLUSION}, Thm 4.4 / Cor 4.5 (iterated scalar products)"
COMMUTING = f"{ILLUSION}, Thm 4.6 (simultaneously diagonalizable transitions)"
TRIANGULAR = (f"back-substitution: in a triangular order each coordinate is a scalar linear recurrence "
              f"({ILLUSION}, Thm 4.4) whose input reads earlier coordinates; the depth adds up over the state "
              "size, a constant")
SIMULTANEOUS_TRIANGULAR = ("commuting matrices are simultaneously triangularisable by one unitary (Horn & Johnson, "
                           "Matrix Analysis, 2nd ed., Thm 2.3.3); in that basis, back-substitution as for "
                           f"triangular A ({ILLUSION}, Thm 4.4 per coordinate)")
MEMORYLESS = "no recurrence: h_t = f(B(x_t) x_t) reads no earlier state, a position-wise map of constant depth"
NONLINEAR = f"{ILLUSION}, Thm 5.1 (RNN-SSMs recognise every regular language)"
WITNESS = f"Barrington 1989 (S5 word problem is NC1-complete); {ILLUSION}, Thm 5.2"
ATTENTION = "Merrill & Sabharwal, The Parallelism Tradeoff: Limitations of Log-Precision Transformers, TACL 2023"
EIGENVALUES = ("Grazzi et al., Unlocking State-Tracking in Linear RNNs Through Negative Eigenvalues, ICLR 2025; "
               "Sarrof, Veitsman & Hahn, The Expressive Capacity of State Space Models, NeurIPS 2024")
SATURATED_RNN = "Merrill, Sequential Neural Networks as Automata, 2019 (saturated GRUs/LSTMs simulate finite automata)"
