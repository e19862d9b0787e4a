// Package linear provides mlserve's linear models: Logistic, L2-regularised
// logistic regression (binary and multinomial) fitted by L-BFGS, and
// Linear, ridge regression solved in closed form. Both read the OneHot
// encoding (imputed, one-hot, standardised features) and fit the same
// objectives as scikit-learn's LogisticRegression(solver="lbfgs") and
// Ridge, which testdata/parity checks against.
//
// Fitting is deterministic: sums run in a fixed order, parallel work is
// split in fixed chunks (CV folds, row chunks of the loss), and CV folds
// are shuffled with the trainer's seed, so the same data, params and seed
// give the same model bytes whatever GOMAXPROCS is.
package linear
