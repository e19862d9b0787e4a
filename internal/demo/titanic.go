// Package demo makes the synthetic passenger feed of `mlserve up --demo` and
// `mlserve datafill --synthetic titanic`: seeded, endless rows whose
// survival odds by sex, class and age follow the real 1912 figures.
package demo

import (
	"math"
	"math/rand/v2"
	"strconv"
)

// The figures below were counted once from the prototype's data (891
// passengers of the Titanic: survived, class, sex, age, embarked) and are
// written here so the demo needs no data file.
var (
	// classShare is the share of passengers in 1st, 2nd and 3rd class
	// (216, 184, 491 of 891).
	classShare = [3]float64{216.0 / 891, 184.0 / 891, 491.0 / 891}
	// femaleShare is the share of women in each class (94/216, 76/184, 144/491).
	femaleShare = [3]float64{94.0 / 216, 76.0 / 184, 144.0 / 491}
	// survival is the survival rate by sex (0 male, 1 female) and class:
	// men 0.369, 0.157, 0.135; women 0.968, 0.921, 0.500.
	survival = [2][3]float64{{0.369, 0.157, 0.135}, {0.968, 0.921, 0.500}}
	// childSurvival is the survival rate of children under 12 (boys 0.556,
	// girls 0.594, all classes): "women and children first".
	childSurvival = [2]float64{0.556, 0.594}
	// ageMean and ageSD are the age mean and standard deviation by class
	// (38.2/14.8, 29.9/14.0, 25.1/12.5 years).
	ageMean = [3]float64{38.2, 29.9, 25.1}
	ageSD   = [3]float64{14.8, 14.0, 12.5}
	// ageMissing is the share of passengers whose age is unknown (177/891).
	ageMissing = 177.0 / 891
	// embarkShare is the share of Cherbourg, Southampton and Queenstown
	// embarkations by class (1st: 85/127/2, 2nd: 17/164/3, 3rd: 66/353/72);
	// 2 of 891 passengers have no port recorded.
	embarkShare   = [3][3]float64{{85.0 / 214, 127.0 / 214, 2.0 / 214}, {17.0 / 184, 164.0 / 184, 3.0 / 184}, {66.0 / 491, 353.0 / 491, 72.0 / 491}}
	embarkMissing = 2.0 / 891
	ports         = [3]string{"C", "S", "Q"}
)

// Passenger is one synthetic row, as the text an ingest request carries.
type Passenger struct {
	Survived string // "0" or "1"
	Class    string // "1", "2", "3"
	Sex      string // "male", "female"
	Age      string // "" when unknown
	Embarked string // "" when unknown
}

// Columns are the column names of a Passenger, in Record order.
var Columns = []string{"survived", "class", "sex", "age", "embarked"}

// Record returns the passenger's fields in Columns order.
func (p Passenger) Record() []string {
	return []string{p.Survived, p.Class, p.Sex, p.Age, p.Embarked}
}

// Titanic is a seeded generator of passengers. It is not safe for
// concurrent use.
type Titanic struct {
	r *rand.Rand
}

// NewTitanic returns a generator; the same seed gives the same passengers.
func NewTitanic(seed uint64) *Titanic {
	return &Titanic{r: rand.New(rand.NewPCG(seed, 0x7469_7461_6e69_63))}
}

// Next returns the next passenger.
func (t *Titanic) Next() Passenger {
	r := t.r
	class := pick(r, classShare[:])
	sex := 0
	if r.Float64() < femaleShare[class] {
		sex = 1
	}
	age := -1.0
	if r.Float64() >= ageMissing {
		age = math.Round(math.Max(0.5, math.Min(80, ageMean[class]+ageSD[class]*r.NormFloat64())))
	}
	p := survival[sex][class]
	if age >= 0 && age < 12 {
		p = childSurvival[sex]
	}
	out := Passenger{Survived: "0", Class: strconv.Itoa(class + 1), Sex: "male"}
	if r.Float64() < p {
		out.Survived = "1"
	}
	if sex == 1 {
		out.Sex = "female"
	}
	if age >= 0 {
		out.Age = strconv.FormatFloat(age, 'f', -1, 64)
	}
	if r.Float64() >= embarkMissing {
		out.Embarked = ports[pick(r, embarkShare[class][:])]
	}
	return out
}

// pick returns an index drawn with the given weights (summing to ~1).
func pick(r *rand.Rand, w []float64) int {
	u := r.Float64()
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}
