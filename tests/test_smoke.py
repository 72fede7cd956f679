def test_flow(login, user, hasher_calls):
    r = login("editor")
    print(r.status_code, r.content.decode()[:100])
    assert b"3 attempts remaining" in r.content
    login("editor"); login("editor")
    r = login("editor")
    assert r.status_code == 429, r.content
    assert r["Retry-After"] == "1200"
    before = hasher_calls()
    r = login("editor", password="correct horse battery staple")
    assert r.status_code == 429
    assert hasher_calls() == before
