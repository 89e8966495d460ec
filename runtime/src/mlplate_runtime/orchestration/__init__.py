"""Run the dvc.yaml pipeline on a managed engine: one step per stage, same code, same params."""
