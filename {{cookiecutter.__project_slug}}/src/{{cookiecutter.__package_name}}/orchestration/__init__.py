"""Run the dvc.yaml pipeline on Kubeflow Pipelines: one step per stage, same code, same params."""
