"""The three-stage DWT+GAN binarizer (Ju et al., Knowledge-Based Systems 2024) run with onnxruntime.

One module per concern, each stating its public API (``__all__``); import names from the module that
defines them:

- :mod:`docbin.threestage.pipeline`: the stages and the fusion as pure functions over generator runners
  (no onnxruntime, no torch; training and the parity tests plug torch modules in).
- :mod:`docbin.threestage.sessions`: onnxruntime sessions of generator files, runners over them, their cache.
- :mod:`docbin.threestage.models`: model folders, manifests and their checks, precisions and the default one.
- :mod:`docbin.threestage.method`: the ``threestage`` method's parameters, entry point and registration.
"""

__all__: list[str] = []
