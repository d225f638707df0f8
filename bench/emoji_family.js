// The family an emoji's Iconify name belongs to, shared by bench/quality.sh and bench/corpus.sh:
// members of a family of near-identical designs (smileys in ~100 expressions, clock faces,
// squares and buttons, arrows, keycaps, flags, moons, hearts, circles, medals) differ by a
// detail, so the benchmarks keep one of each; any other name is a family of its own.
const animals = /^(cat|cow|dog|dragon|horse|monkey|mouse|pig|rabbit|tiger|clown|cowboy-hat)-face$/;
module.exports = n =>
  /moon/.test(n) ? "moon" : /face/.test(n) && !animals.test(n) && !/^person-/.test(n) ? "smiley" :
  /oclock|thirty/.test(n) ? "clock" : /square|button/.test(n) ? "shape" : /arrow/.test(n) ? "arrow" :
  /^keycap/.test(n) ? "keycap" : /^flag/.test(n) ? "flag" : /heart/.test(n) ? "heart" :
  /circle/.test(n) ? "circle" : /medal/.test(n) ? "medal" : n;
