package names

import "strings"

// HowNickname marks a given name against its nickname or short form
// ("Pepe" and "José", "Bill" and "William").
const HowNickname = "nickname of"

// nicknameSimilarity is what a nickname pair scores: less than the full
// name written out (1) and than most spellings, more than the threshold,
// so "Pepe Zambada García" matches "José Zambada García" but a nickname
// alone does not make two names one.
const nicknameSimilarity = 0.88

// nicknameTable lists given names with their nicknames and short forms,
// in Spanish (Mexico first) and English, folded. Sources: the Real
// Academia Española's and Wikipedia's lists of Spanish hypocorisms
// ("Hipocorístico", es.wikipedia.org/wiki/Hipocorístico), and Wikipedia's
// "List of English given names" diminutives (en.wikipedia.org, entries
// "Bill", "Bob", "Dick", "Jack", "Peggy"…). A nickname may belong to
// several names ("Beto": Alberto, Roberto, Humberto…); two full names
// never match through one.
var nicknameTable = map[string]string{
	// Spanish
	"jose":       "pepe chepe pepito joselito cheo",
	"jesus":      "chuy chucho chuyito chus",
	"francisco":  "paco pancho curro quico kiko paquito panchito frank",
	"guadalupe":  "lupe lupita pita",
	"ignacio":    "nacho",
	"alfonso":    "poncho",
	"alberto":    "beto",
	"roberto":    "beto",
	"humberto":   "beto",
	"gilberto":   "beto",
	"heriberto":  "beto",
	"norberto":   "beto",
	"adalberto":  "beto",
	"eduardo":    "lalo",
	"enrique":    "kike quique",
	"manuel":     "manolo meme manu",
	"dolores":    "lola lolita",
	"concepcion": "concha conchita",
	"rosario":    "chayo charo",
	"consuelo":   "chelo",
	"santiago":   "chago santi",
	"salvador":   "chava chavo salva",
	"antonio":    "tono tonio toni tony",
	"isabel":     "chabela chavela isa",
	"refugio":    "cuco cuca cuquita",
	"gregorio":   "goyo",
	"ramon":      "moncho mon",
	"rodolfo":    "fito rudy",
	"adolfo":     "fito",
	"rafael":     "rafa",
	"federico":   "fede quico",
	"guillermo":  "memo guille",
	"luis":       "lucho wicho guicho",
	"mercedes":   "meche",
	"graciela":   "chela",
	"socorro":    "coco",
	"cristina":   "tina",
	"ernesto":    "neto",
	"fernando":   "nando",
	"alejandro":  "alex jandro",
	"armando":    "mando",
	"joaquin":    "chimo quino",
	"jorge":      "coque",
	"ricardo":    "richi",
	"margarita":  "mago magui",
	"juan":       "juancho juanito",
	"javier":     "javi",
	"daniel":     "dani",
	"lorenzo":    "lencho",
	"leonardo":   "leo",
	"felipe":     "pipe",
	"martin":     "tincho",
	"teresa":     "tere",
	"patricia":   "paty pati",
	"beatriz":    "bety",
	"vicente":    "chente",
	"inocencio":  "chencho",
	"crescencio": "chencho",
	"gonzalo":    "chalo",
	"jacinto":    "chinto",
	"eusebio":    "chevo",
	"anastasio":  "tacho",
	"bartolome":  "bartolo",
	"mariano":    "nano",
	"maria":      "mari",
	"josefina":   "chepina pepa fina",
	"ramona":     "moncha",
	"gabriel":    "gabo",
	"alfredo":    "fredo",
	"benjamin":   "benja",
	// English
	"william":     "bill billy will willy liam",
	"robert":      "bob bobby rob robbie bert",
	"richard":     "dick rick ricky rich",
	"james":       "jim jimmy jamie",
	"john":        "jack johnny",
	"jonathan":    "jon",
	"joseph":      "joe joey",
	"michael":     "mike mikey",
	"thomas":      "tom tommy",
	"charles":     "charlie chuck",
	"edward":      "ed eddie ted ned",
	"anthony":     "tony",
	"antony":      "tony",
	"christopher": "chris kit",
	"christine":   "chris",
	"elizabeth":   "liz beth betty eliza lisa",
	"margaret":    "maggie peggy meg",
	"katherine":   "kate kathy katie",
	"catherine":   "cathy kate",
	"kathleen":    "kathy",
	"patricia_en": "pat patty trish",
	"jennifer":    "jen jenny",
	"susan":       "sue susie",
	"rebecca":     "becky",
	"alexander":   "alex sandy",
	"andrew":      "andy drew",
	"benjamin_en": "ben benny",
	"samuel":      "sam sammy",
	"matthew":     "matt",
	"nicholas":    "nick",
	"stephen":     "steve",
	"steven":      "steve",
	"timothy":     "tim",
	"kenneth":     "ken kenny",
	"lawrence":    "larry",
	"gerald":      "jerry",
	"gregory":     "greg",
	"henry":       "hank harry",
	"francis":     "frank",
	"frederick":   "fred freddy",
	"peter":       "pete",
	"raymond":     "ray",
	"ronald":      "ron ronnie",
	"donald":      "don donnie",
	"douglas":     "doug",
	"albert":      "al bert",
	"abraham":     "abe",
	"theodore":    "ted teddy",
	"victoria":    "vicky",
	"deborah":     "debbie",
	"joshua":      "josh",
	"zachary":     "zach",
	"nathaniel":   "nate",
	"nathan":      "nate",
	"phillip":     "phil",
	"philip":      "phil",
	"leonard":     "len",
	"walter":      "walt",
	"eugene":      "gene",
	"vincent":     "vince",
	"jacob":       "jake",
	"jeffrey":     "jeff",
	"jefferson":   "jeff",
	"russell":     "russ",
	"harold":      "hal harry",
	"daniel_en":   "dan danny",
	"david":       "dave davey",
	"alfred":      "alf fred",
	"dorothy":     "dot dottie",
	"barbara":     "barb",
	"judith":      "judy",
	"pamela":      "pam",
	"cynthia":     "cindy",
}

// nicknames maps each name and nickname to the groups (one per full name)
// it belongs to.
var nicknames = func() map[string][]int32 {
	groups := map[string][]int32{}
	id := int32(0)
	for name, nicks := range nicknameTable {
		name, _, _ = strings.Cut(name, "_") // "daniel_en": a second group for one name
		groups[name] = append(groups[name], id)
		for _, n := range strings.Fields(nicks) {
			groups[n] = append(groups[n], id)
		}
		id++
	}
	return groups
}()

// isNickname reports whether a and b (different) are a name and its
// nickname, or two nicknames of one name: they share a group. Two full
// names never do, since each group has one.
func isNickname(a, b string) bool {
	for _, x := range nicknames[a] {
		for _, y := range nicknames[b] {
			if x == y {
				return true
			}
		}
	}
	return false
}

// NicknameOf returns the first nickname the table gives for a folded
// given name ("jose" → "pepe"), or "".
func NicknameOf(name string) string {
	if n, ok := nicknameTable[name]; ok {
		nick, _, _ := strings.Cut(n, " ")
		return nick
	}
	return ""
}
