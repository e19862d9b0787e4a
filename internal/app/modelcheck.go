package app

import (
	"fmt"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/ml/algorithms"
)

// ParseOptions are the pipeline file's rules with mlserve's algorithms: a
// model's params are checked when the file is loaded, so a typo
// (`n_tree: 50`) fails there with a "did you mean", not at the first
// training.
var ParseOptions = config.ParseOptions{CheckModel: checkModel}

// checkModel checks params by building the algorithm's trainer for task:
// the trainer reads every param it knows and names the others.
func checkModel(alg string, task config.Task, params map[string]any) error {
	a, err := algorithms.Lookup(alg)
	if err != nil {
		return err
	}
	t := ml.Task(task)
	if task == config.Classification {
		t = ml.Binary // binary or multiclass by the data; the params are the same
	}
	if _, _, err := a.NewTrainer(t, params, config.DefaultSeed); err != nil {
		return fmt.Errorf("algorithm %s: %w", alg, err)
	}
	return nil
}
