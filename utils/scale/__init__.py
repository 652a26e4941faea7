"""Beyond the laptop: the GPU fast path (``fast``), the training benchmark (``bench``) and multi-GPU training
(``distributed``). No lesson module imports this package; the lessons run the same maths on a CPU.
"""
