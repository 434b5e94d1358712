"""The CDK app that deploys Inference Core: one construct per capability, composed by one stack."""
