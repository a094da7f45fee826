"""The references behind every verdict and every published claim, spelled once.

The first group backs the checker's rules (tc0lab/check/verdict.py); the second names the papers
whose claims the classification table (tc0lab/check/claims.py, table.py) compares with the verdicts.
"""

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
GRAZZI = ("Grazzi, Siems, Zela, Franke, Hutter & Pontil, Unlocking State-Tracking in Linear RNNs Through Negative "
          "Eigenvalues, ICLR 2025 (arXiv 2411.12537)")
EIGENVALUES = f"{GRAZZI}; Sarrof, Veitsman & Hahn, The Expressive Capacity of State Space Models, NeurIPS 2024"
SATURATED_RNN = "Merrill, Sequential Neural Networks as Automata, 2019 (saturated GRUs/LSTMs simulate finite automata)"

# published architectures and the claims made about them
TITANS = "Behrouz, Zhong & Mirrokni, Titans: Learning to Memorize at Test Time, 2024 (arXiv 2501.00663)"
NISHIKAWA_SUZUKI = ("Nishikawa & Suzuki, State Space Models are Provably Comparable to Transformers in Dynamic "
                    "Token Selection, ICLR 2025")
RWKV6 = ("Peng et al., Eagle and Finch: RWKV with Matrix-Valued States and Dynamic Recurrence, COLM 2024 "
         "(arXiv 2404.05892)")
RWKV7 = 'Peng et al., RWKV-7 "Goose" with Expressive Dynamic State Evolution, 2025 (arXiv 2503.14456)'
GATED_DELTANET = ("Yang, Kautz & Hatamizadeh, Gated Delta Networks: Improving Mamba2 with Delta Rule, ICLR 2025 "
                  "(arXiv 2412.06464)")
DELTAPRODUCT = ("Siems, Carstensen, Zela, Hutter, Pontil & Grazzi, DeltaProduct: Increasing the Expressivity of "
                "DeltaNet Through Products of Householders, 2025 (arXiv 2502.10297)")
KIMI_LINEAR = "Kimi Team, Kimi Linear: An Expressive, Efficient Attention Architecture, 2025 (arXiv 2510.26692)"
XLSTM = "Beck et al., xLSTM: Extended Long Short-Term Memory, NeurIPS 2024 (arXiv 2405.04517)"
GRIFFIN = ("De et al., Griffin: Mixing Gated Linear Recurrences with Local Attention for Efficient Language Models, "
           "2024 (arXiv 2402.19427)")
HGRN2 = "Qin et al., HGRN2: Gated Linear RNNs with State Expansion, COLM 2024 (arXiv 2404.07904)"
MINGRU = "Feng et al., Were RNNs All We Needed?, 2024 (arXiv 2410.01201)"
RETNET = "Sun et al., Retentive Network: A Successor to Transformer for Large Language Models, 2023 (arXiv 2307.08621)"
LRU = "Orvieto et al., Resurrecting Recurrent Neural Networks for Long Sequences, ICML 2023 (arXiv 2303.06349)"
GATELOOP = ("Katsch, GateLoop: Fully Data-Controlled Linear Recurrence for Sequence Modeling, 2023 "
            "(arXiv 2311.01927)")
MAMBA3 = "Mamba-3: Improved Sequence Modeling using State Space Principles, 2025 (OpenReview, ICLR 2026 submission)"
PD_SSM = ("Terzić, Menet, Hersche, Hofmann & Rahimi, Structured Sparse Transition Matrices to Enable State Tracking "
          "in State-Space Models, 2025 (arXiv 2509.22284)")
LONGHORN = "Liu et al., Longhorn: State Space Models are Amortized Online Learners, 2024 (arXiv 2407.14207)"
HYENA = "Poli et al., Hyena Hierarchy: Towards Larger Convolutional Language Models, ICML 2023 (arXiv 2302.10866)"
LRCSSM = ("Farsang, Hasani, Rus & Grosu, Scaling Up Liquid-Resistance Liquid-Capacitance Networks for Efficient "
          "Sequence Modeling, 2025 (arXiv 2505.21717)")
