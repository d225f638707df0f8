"""Stand-in for stable-diffusion-webui's modules/scripts.py: the pieces an AlwaysVisible
postprocess_image script touches, with the same names and call shapes.

ScriptRunner.postprocess_image mirrors the webui's: every always-on script is called with
(p, pp, *its ui args) and an exception is only reported, the image kept as it was.
"""
import logging

AlwaysVisible = object()


class PostprocessImageArgs:
    def __init__(self, image):
        self.image = image


class Script:
    filename = None
    args_from = None
    args_to = None
    alwayson = False

    def title(self):
        raise NotImplementedError()

    def ui(self, is_img2img):
        pass

    def show(self, is_img2img):
        return True

    def postprocess_image(self, p, pp, *args):
        pass


class ScriptRunner:
    def __init__(self, scripts):
        self.alwayson_scripts = [s for s in scripts if s.show(False) is AlwaysVisible]
        self.errors = []

    def postprocess_image(self, p, pp):
        for script in self.alwayson_scripts:
            try:
                script.postprocess_image(p, pp, *p.script_args[script.args_from:script.args_to])
            except Exception as e:  # the webui's errors.report: log and go on
                logging.getLogger("webui").exception("Error running postprocess_image")
                self.errors.append(e)
