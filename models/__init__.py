"""docbin.models: torch networks (generators, critic), BNN layers, training loops, ONNX export, and the
shipped ``*.onnx`` files with their model cards. Torch is imported only inside the training/export
modules; inference code (``docbin.threestage``) reads the ONNX files without torch."""
