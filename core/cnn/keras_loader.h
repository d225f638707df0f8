/* Keras layers models (TensorFlow.js "layers" format) to nets. Internal. */
#ifndef LK_CNN_KERAS_LOADER_H
#define LK_CNN_KERAS_LOADER_H

#include "core/cnn/net.h"
#include "core/cnn/tfjs_weights.h"

/* Builds a net from a loaded layers model. Supported: InputLayer, ZeroPadding2D, Conv2D,
 * DepthwiseConv2D (multiplier 1), BatchNormalization right after a convolution (folded into it,
 * so the convolution's own name then yields the normalised output), ReLU / ReLU6 (fused into
 * such a convolution when nothing else reads it: the convolution's and batch norm's names then
 * yield the activated output), Add,
 * AveragePooling2D (valid), Flatten, Dropout (inference: identity), Dense (linear, relu,
 * softmax). Anything else is refused with LK_ECORRUPT naming the layer. */
int lk__net_from_keras(lk_net *net, const lk_tfjs_model *m);

#endif
