"""Stand-ins for a diffusers Stable Diffusion pipeline's tail: run_safety_checker and the
postprocessing after it, written from diffusers' own code (pipeline_stable_diffusion.py,
image_processor.py) with faketorch tensors, for the adapter tests.

  Pipeline        current releases: the VAE's decoded NCHW tensor in -1..1 goes to the safety
                  checker; flagged images skip denormalisation, then everything becomes PIL/np.
  LegacyPipeline  older releases: decode_latents gives NHWC numpy in 0..1, checked as such.
"""
import numpy as np
from PIL import Image

import faketorch


def numpy_to_pil(images):
    if images.ndim == 3:
        images = images[None, ...]
    images = (images * 255).round().astype("uint8")
    return [Image.fromarray(image) for image in images]


class ImageProcessor:
    """VaeImageProcessor.postprocess for output types pil / np / pt."""

    def postprocess(self, image, output_type="pil", do_denormalize=None):
        a = image.detach().cpu().float().numpy()
        if do_denormalize is None:
            do_denormalize = [True] * a.shape[0]
        a = np.stack([np.clip(a[i] / 2 + 0.5, 0, 1) if do_denormalize[i] else a[i] for i in range(a.shape[0])])
        if output_type == "pt":
            return faketorch.FakeTensor(a, "cpu")
        a = a.transpose(0, 2, 3, 1)
        if output_type == "np":
            return a
        return numpy_to_pil(a)

    numpy_to_pil = staticmethod(numpy_to_pil)


class FeatureOutput:
    def __init__(self, pixel_values):
        self.pixel_values = pixel_values

    def to(self, device):
        return self


class CLIPFeatureExtractor:
    """Counts its calls; returns 224x224 pixel values as the real one would."""

    def __init__(self):
        self.calls = 0

    def __call__(self, images, return_tensors="pt"):
        self.calls += 1
        return FeatureOutput(faketorch.FakeTensor(np.zeros((len(images), 3, 224, 224), np.float32), "cpu"))


class Pipeline:
    def __init__(self, safety_checker=None, feature_extractor=None):
        self.safety_checker = safety_checker
        self.feature_extractor = feature_extractor
        self.image_processor = ImageProcessor()

    def run_safety_checker(self, image, device, dtype):
        if self.safety_checker is None:
            has_nsfw_concept = None
        else:
            if faketorch.is_tensor(image):
                feature_extractor_input = self.image_processor.postprocess(image, output_type="pil")
            else:
                feature_extractor_input = self.image_processor.numpy_to_pil(image)
            safety_checker_input = self.feature_extractor(feature_extractor_input, return_tensors="pt").to(device)
            image, has_nsfw_concept = self.safety_checker(
                images=image, clip_input=safety_checker_input.pixel_values.to(dtype)
            )
        return image, has_nsfw_concept

    def finish(self, decoded, output_type="pil"):
        """The end of __call__ after the VAE: returns (images, nsfw_content_detected)."""
        image, has_nsfw_concept = self.run_safety_checker(decoded, "cuda:0", "torch.float16")
        if has_nsfw_concept is None:
            do_denormalize = [True] * image.shape[0]
        else:
            do_denormalize = [not has_nsfw for has_nsfw in has_nsfw_concept]
        image = self.image_processor.postprocess(image, output_type=output_type, do_denormalize=do_denormalize)
        return image, has_nsfw_concept


class LegacyPipeline(Pipeline):
    def run_safety_checker(self, image, device, dtype):
        if self.safety_checker is not None:
            safety_checker_input = self.feature_extractor(numpy_to_pil(image), return_tensors="pt").to(device)
            image, has_nsfw_concept = self.safety_checker(
                images=image, clip_input=safety_checker_input.pixel_values.to(dtype)
            )
        else:
            has_nsfw_concept = None
        return image, has_nsfw_concept

    def finish(self, decoded, output_type="pil"):
        image, has_nsfw_concept = self.run_safety_checker(decoded, "cuda:0", "torch.float16")
        return (numpy_to_pil(image) if output_type == "pil" else image), has_nsfw_concept
