// Package gbdt is gradient-boosted decision trees on histograms, the "gbdt"
// algorithm of pipeline files, in pure Go: binary and multiclass (softmax)
// classification and regression, after LightGBM, XGBoost's hist method and
// scikit-learn's HistGradientBoosting.
//
// # Stages
//
// One file per stage, each with its test:
//
//   - bin.go: each numeric feature is cut into at most max_bins bins at
//     quantiles of a seeded sample of up to 200,000 rows (distinct values
//     get a bin each when there are few); a categorical feature's codes are
//     its bins. Every feature has one more bin for missing values (NaN, and
//     categorical codes outside 0..Levels-1). Codes are uint8, kept
//     row-major and column-major.
//   - histogram.go: per node, the sums of gradient, hessian and rows per
//     bin. Only the smaller child of a split is built; the other is the
//     parent minus it.
//   - split.go: the best split of a node. Numeric features scan thresholds
//     with the missing bin on either side, so each split learns where
//     missing values go. Categorical features split into a subset of
//     categories, found as LightGBM does (categories sorted by
//     gradient/hessian, prefixes scanned). Gain is G²/(H+l2) of the
//     children less the parent's.
//   - partition.go: a node's rows, a range of one row-index slice, split in
//     place, stably.
//   - grow.go: trees grow best-first to max_leaves (the split with most
//     gain first); without a binding leaf limit, all splits within
//     max_depth are made, a whole level at a time (depth-wise).
//   - tree.go: the fitted tree on raw values, and its prediction layout.
//   - loss.go: gradients, hessians and baselines of the losses.
//   - boost.go: the boosting loop, shrinkage, row and feature sampling,
//     early stopping on a seeded validation split.
//
// # Params
//
// Read with ml.Reader; unknown names are errors. Defaults follow
// scikit-learn's HistGradientBoosting and LightGBM, which do well untuned:
//
//	n_trees                100   boosting rounds (a multiclass round fits one tree per class)
//	learning_rate          0.1   shrinkage of every tree's leaf values
//	max_leaves             31    leaves per tree, grown best-first; 0 for no limit
//	max_depth              0     depth limit, 0 for none (max_leaves and max_depth cannot both be 0)
//	min_samples_leaf       20    least training rows in a leaf
//	l2                     0     L2 penalty on leaf values (XGBoost's lambda)
//	max_bins               255   bins per numeric feature (2..255), plus one for missing values
//	subsample              1     fraction of rows drawn for each round
//	colsample              1     fraction of features drawn for each round
//	early_stopping_rounds  0     stop when the validation loss has not improved for this many rounds, keep the best; 0 is off
//	validation_fraction    0.1   rows held out for early stopping (only when it is on)
//	loss                   regression: squared_error (default), absolute_error or huber; classification: log_loss
//
// XGBoost's usual setting is max_depth 6, max_leaves 0, learning_rate 0.3,
// l2 1. For absolute_error, leaves take the median residual of their rows;
// huber's delta is the 0.9 quantile of the absolute residuals each round.
// A categorical feature with more than max_bins levels is binned as a
// number.
//
// # Prediction
//
// Predict writes [P(0), P(1)] for binary models, the K class probabilities
// for multiclass, the value for regression. At each split NaN goes the
// learned direction; a categorical code the model has not seen (or a
// value that is not a code) goes the missing direction. Predict does not
// allocate; PredictBatch spreads fixed chunks of rows over the cores.
// Model.Importance is each feature's share of the total split gain, and is
// part of the encoded model.
//
// # Determinism
//
// The same data, params and seed give the same trees, and so the same
// bytes from MarshalJSON, whatever the number of threads: every random
// draw comes from one seeded generator in a fixed order, and every sum is
// taken in an order that depends on the data only (row tiles and
// per-feature sums are fixed by the node's rows, and added up in order),
// never on which goroutine did what.
package gbdt
