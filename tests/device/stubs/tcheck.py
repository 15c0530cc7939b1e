# ok/FAIL lines in the format tests/run.sh tallies.
failed = 0

def check(name, cond, why=''):
    global failed
    if cond:
        print('ok - ' + name)
    else:
        failed += 1
        print('FAIL - %s: %s' % (name, why))

def raises(name, exc, fn, *args, match=None, **kw):
    # fn(*args, **kw) must raise exc (whose text contains match); returns it.
    try:
        fn(*args, **kw)
    except exc as e:
        if match is None or match in str(e):
            check(name, True)
        else:
            check(name, False, 'raised %r, wanted text %r' % (e, match))
        return e
    except Exception as e:
        check(name, False, 'raised %s: %s, wanted %s' % (type(e).__name__, e, exc.__name__))
        return e
    check(name, False, 'nothing raised, wanted ' + exc.__name__)
