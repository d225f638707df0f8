/* TensorFlow GraphDef models (TensorFlow.js "graph" format) to nets. Internal. */
#ifndef LK_CNN_GRAPH_LOADER_H
#define LK_CNN_GRAPH_LOADER_H

#include "core/cnn/net.h"
#include "core/cnn/tfjs_weights.h"

/* Builds a net from a loaded graph model, reached from its output node `output` (NULL: the
 * node named "Identity"). Supported: Placeholder, Const (weights), Mul / Sub / Add by a scalar,
 * _FusedConv2D and FusedDepthwiseConv2dNative (NHWC, with BiasAdd and Relu / Relu6 fused),
 * AddV2, AvgPool (VALID), Squeeze, _FusedMatMul (BiasAdd), Softmax, Identity. Anything else is
 * refused with LK_ECORRUPT naming the node. Op names are the node names. */
int lk__net_from_graph(lk_net *net, const lk_tfjs_model *m, const char *output);

#endif
