"""Prints every object of a bucket in wrangler's local persistence (`--persist-to DIR`) as
{"key": text}: what `wrangler r2 object get --local` would read, for all keys at once. Bytes that
are not UTF-8 (the sealed archive) come as {"key": {"base64": ...}}.

usage: read_local_r2.py PERSIST_DIR BUCKET
"""
import base64
import glob
import json
import os
import sqlite3
import sys


def main(persist, bucket):
    root = os.path.join(persist, "v3", "r2")
    objects = {}
    for db in glob.glob(os.path.join(root, "miniflare-R2BucketObject", "*.sqlite")):
        if os.path.basename(db) == "metadata.sqlite":
            continue
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = connection.execute("SELECT key, blob_id FROM _mf_objects").fetchall()
        except sqlite3.DatabaseError:
            continue
        finally:
            connection.close()
        for key, blob_id in rows:
            path = os.path.join(root, bucket, "blobs", blob_id)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data = f.read()
                try:
                    objects[key] = data.decode("utf-8")
                except UnicodeDecodeError:
                    objects[key] = {"base64": base64.b64encode(data).decode("ascii")}
    print(json.dumps(objects))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
