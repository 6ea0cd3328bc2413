"""Write sample_data/tweets.{csv,jsonl,parquet}: a small hand-written corpus for demos and tests.

Mixed lengths (three posts run past 512 tokens, so head+tail truncation shows), a few empty
rows, and extra columns that annotate must carry through unchanged.
Run: python scripts/make_sample_data.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

SHORT = [
    "i finally got the job offer and i cannot stop smiling",
    "my dog passed away this morning and the house feels so empty",
    "how dare they cancel the show without telling anyone, unbelievable",
    "i am terrified of the exam tomorrow, my hands are shaking",
    "wait, you are moving to tokyo? i had no idea!",
    "i love the way you laugh at your own jokes",
    "nobody called on my birthday and i feel forgotten",
    "the train was late again and i missed my interview, furious",
    "we won the match in the last minute, what a night",
    "there is a strange noise downstairs and i am home alone",
    "i miss you so much it hurts",
    "grandma taught me to bake bread today, best afternoon in ages",
    "they raised the rent by forty percent. forty.",
    "i didn't expect the ending at all, my jaw dropped",
    "holding my newborn niece for the first time, my heart is full",
    "i feel so lonely in this new city",
    "stop sending me spam emails every single hour",
    "the doctor wants to run more tests and i am scared",
    "just passed my driving test on the first try",
    "you remembered my favourite flowers, thank you darling",
    "i keep failing at everything i try lately",
    "the neighbours are drilling at six am again",
    "surprise party for me? i genuinely had no clue",
    "walking home at night on this street makes me nervous",
    "sunday pancakes with the whole family",
    "i feel like crying and i do not even know why",
    "my flight got cancelled and the airline will not refund me",
    "cuddling on the sofa with you is my favourite place",
    "the stock market crash wiped out my savings, i am panicking",
    "i cannot believe she said yes!",
    "coffee tastes better when the sun is out",
    "i hate being ignored in meetings",
    "the results came back clear, i can breathe again",
    "missing my old friends from school tonight",
    "my heart skipped when i saw your message",
    "whoever stole my bike, i hope you are proud of yourself",
    "the thunder is so loud the windows are rattling and i am hiding under a blanket",
    "shocked to hear the factory is closing after fifty years",
    "thank you all for the birthday wishes, feeling loved",
    "another rejection letter, i am starting to lose hope",
]

LONG_PARTS = [
    "Let me tell you about the week I have had, because it started quietly enough.",
    "On Monday the office heating broke and everyone worked in coats and scarves.",
    "On Tuesday my sister called to say the car had broken down on the motorway again.",
    "Wednesday was a blur of meetings, spreadsheets, reminders and unanswered emails.",
    "Thursday I cooked dinner for friends, burned the rice, and we ordered pizza instead.",
    "Friday the landlord finally sent someone to look at the damp in the bathroom.",
]
LONG_ENDINGS = [
    "And then, on Saturday, you knocked on my door with a ring in your pocket, "
    "and I said yes before you finished the question. I have never been happier.",
    "And then, on Saturday, the letter came: the clinic wants me back for more scans. "
    "I cannot sleep, I cannot eat, and I am so afraid of what they will find.",
    "And then, on Saturday, they told me by text that my position had been cut. "
    "Eleven years of loyalty and not even a phone call. I am absolutely livid.",
]


def long_post(ending: str, repeats: int = 12) -> str:
    body = " ".join(LONG_PARTS[i % len(LONG_PARTS)] for i in range(repeats * len(LONG_PARTS)))
    return f"{body} {ending}"


def rows() -> list[dict[str, object]]:
    texts: list[str] = list(SHORT)
    for i, ending in enumerate(LONG_ENDINGS):
        texts.insert(7 + i * 11, long_post(ending))
    for position in (5, 19, 33):
        texts.insert(position, "")
    return [
        {
            "id": i + 1,
            "user": f"user{(i * 7) % 13:02d}",
            "text": text,
            "likes": (i * 37) % 101,
        }
        for i, text in enumerate(texts)
    ]


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "sample_data"
    out.mkdir(exist_ok=True)
    records = rows()
    table = pa.Table.from_pylist(records)
    pa_csv.write_csv(table, out / "tweets.csv")
    pq.write_table(table, out / "tweets.parquet")
    with open(out / "tweets.jsonl", "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    with open(out / "texts.txt", "w", encoding="utf-8") as f:
        f.writelines(t + "\n" for t in SHORT[:10])
    print(f"wrote {len(records)} rows to {out}/tweets.{{csv,jsonl,parquet}} and texts.txt")


if __name__ == "__main__":
    main()
