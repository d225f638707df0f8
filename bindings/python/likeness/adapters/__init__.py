"""Host adapters for likeness: a ComfyUI node (comfyui), a diffusers safety_checker (diffusers)
and an AUTOMATIC1111 postprocess script (a1111). Each is imported on its own; none imports its
host at module level, so each loads (and is tested) where the host is not installed.

See bindings/python/adapters.md for installing each one.
"""
