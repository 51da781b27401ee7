package moelab.train;

import moelab.tensor.Shape;

/**
 * A named tensor's shape and float32 values (row-major), detached from any model: what
 * checkpoints and safetensors files hold before they are checked and copied into parameters.
 *
 * @param shape dimensions, each >= 0
 * @param data  row-major values, Shape.numel(shape) long
 */
public record TensorData(int[] shape, float[] data) {
    public TensorData {
        if (data.length != Shape.numel(shape))
            throw new IllegalArgumentException("TensorData: " + data.length + " values do not fill shape " + Shape.str(shape));
    }
}
