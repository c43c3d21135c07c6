"""What a stack would deploy, without a cluster: the mock runtime, the render and its diff."""
