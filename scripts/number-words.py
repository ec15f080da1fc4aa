#!/usr/bin/env python3
"""Number-words pairs for train_transformer: "forty-two thousand seven hundred six<TAB>42706".

Usage: scripts/number-words.py OUT_DIR [TRAIN_COUNT] [TEST_COUNT] [SEED]
Writes OUT_DIR/train.tsv and OUT_DIR/test.tsv: numbers drawn from 0-99,999 without
repeats, so no test number is seen in training. No network, standard library only.
"""
import os
import random
import sys

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
        "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def below_hundred(n):
    if n < 20:
        return ONES[n]
    tens, ones = divmod(n, 10)
    return TENS[tens] + ("-" + ONES[ones] if ones else "")


def below_thousand(n):
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds:
        words.append(ONES[hundreds] + " hundred")
    if rest or not hundreds:
        words.append(below_hundred(rest))
    return " ".join(words)


def words(n):
    thousands, rest = divmod(n, 1000)
    if not thousands:
        return below_thousand(rest)
    head = below_thousand(thousands) + " thousand"
    return head + (" " + below_thousand(rest) if rest else "")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    train = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    test = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    numbers = random.Random(seed).sample(range(100000), train + test)
    os.makedirs(out, exist_ok=True)
    for name, part in [("train.tsv", numbers[:train]), ("test.tsv", numbers[train:])]:
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            for n in part:
                f.write(f"{words(n)}\t{n}\n")


if __name__ == "__main__":
    main()
