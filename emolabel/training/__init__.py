"""Fine-tuning: options, base models and layer subsets, labelled data, the trainer, the model
folder and its card, and knowledge distillation."""
