"""Running a model: EmotionClassifier, head+tail truncation, devices and precision, model
folders, batch planning, attention and the allocator settings that keep inference fast."""
